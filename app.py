"""North Star Lab — the Streamlit app's router. Run: streamlit run app.py"""

import streamlit as st

st.set_page_config(
    page_title="North Star Lab",
    page_icon="⭐",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    "Choose": [
        st.Page("pages/home.py", title="Home", icon="⭐", default=True),
        st.Page("pages/data.py", title="Data", icon="📂"),
        st.Page("pages/candidates.py", title="Candidates", icon="📊"),
        st.Page("pages/workshop.py", title="Workshop", icon="🗳️"),
    ],
    "Decide and share": [
        st.Page("pages/rationale.py", title="Rationale", icon="📜"),
        st.Page("pages/revalidate.py", title="Re-validate", icon="🔁"),
    ],
}

st.navigation(PAGES).run()
