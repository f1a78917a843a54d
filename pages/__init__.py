"""Streamlit pages (thin: read widgets, call northstar_lab, render)."""
