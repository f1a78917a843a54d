"""Home: what the app does, one click to the sample, what is loaded, decisions recorded."""

import streamlit as st

from pages import shared

st.title("North Star Lab")
st.markdown(
    "Choose your **North Star metric from evidence, not opinion.** North Star Lab ranks candidate "
    "metrics — what new users do in their first days — by how strongly they predict who stays "
    "(survival analysis) and who pays. Then your team scores the qualitative criteria in a "
    "workshop, records the decision with every rejected alternative and why, and re-checks it "
    "as new data arrives."
)

left, right = st.columns([1, 1], gap="large")
with left:
    st.subheader("Start")
    if st.button("▶ Try it with the sample data", type="primary", key="try_sample"):
        shared.choose_dataset(shared.SAMPLE)
        result = shared.analysis()
        if result is not None:
            st.switch_page("pages/candidates.py")
    st.caption(
        "The sample is a fictional education SaaS, Lumen Learn: 8,000 signups in 2025. "
        "Or bring your own event log and users table on the Data page."
    )
    st.page_link(
        "pages/data.py",
        label="Upload your data or connect to a database",
        icon=":material/folder_open:",
    )

with right:
    st.subheader("Loaded now")
    choice = shared.dataset()
    if choice is None:
        st.write("Nothing yet.")
    else:
        st.write(f"**{choice.get('label', 'Your data')}**")
        result = shared.cached_analysis()
        if result is not None:
            r = result.ranking
            info = r.data
            st.write(
                f"{r.n_users:,} users in the retention analysis ({r.n_churned:,} churned); "
                f"signups {info.signup_min or '?'} to {info.signup_max or '?'}; "
                f"data as of {info.as_of}."
            )
            st.write(f"Current leader: **{r.leader.name}**")

st.divider()
st.subheader("Decisions recorded")
try:
    decisions = shared.store().list_decisions()
except Exception as exc:  # a broken database must not hide the rest of the page
    st.error(f"The decision database could not be opened: {exc}")
    decisions = []
if not decisions:
    st.write("None yet. Record one at the end of the workshop.")
else:
    for d in decisions:
        verdict = d.get("latest_verdict") or "not re-validated"
        st.markdown(
            f"- [{d['title']}](/rationale?decision={d['id']}) — **{d.get('chosen_name', '')}** "
            f"(v{d.get('version', 1)}, {str(d.get('created_at', ''))[:10]}; {verdict})"
        )
