"""North Star Lab — the Streamlit app's router. Run: streamlit run app.py"""

import streamlit as st

from pages import shared

st.set_page_config(
    page_title="North Star Lab",
    page_icon=":material/star:",
    layout="wide",
    initial_sidebar_state="expanded",
)

#: Sections of the navigation, each a list of pages (add a page by adding a line).
PAGES = {
    "Choose": [
        st.Page("pages/home.py", title="Home", icon=":material/star:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/folder_open:"),
        st.Page("pages/candidates.py", title="Candidates", icon=":material/leaderboard:"),
        st.Page("pages/workshop.py", title="Workshop", icon=":material/how_to_vote:"),
        st.Page("pages/inputs.py", title="Input metrics", icon=":material/account_tree:"),
    ],
    "Decide and share": [
        st.Page("pages/rationale.py", title="Rationale", icon=":material/description:"),
        st.Page("pages/revalidate.py", title="Re-validate", icon=":material/autorenew:"),
    ],
}

page = st.navigation(PAGES)
shared.bootstrap(page)  # a ?workshop=ID link reopens its workshop (reload, another laptop)
try:
    with shared.page_run(whole_page=True):  # work done ahead waits while a page is drawn
        page.run()
finally:
    shared.commit()  # autosave whatever this run changed (pages also save as they go)
