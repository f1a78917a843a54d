"""North Star Lab: choose a North Star metric from evidence (survival and revenue)."""
