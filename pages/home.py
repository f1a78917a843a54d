"""Home: what the app does, one click to the sample, what is loaded, decisions recorded."""

import pandas as pd
import streamlit as st

from northstar_lab.errors import InputError
from pages import shared

shared.warm_up_sample()  # the sample's analysis starts now, before anyone clicks


@st.cache_data(show_spinner=False)
def _sample_signups() -> pd.DataFrame:
    from northstar_lab.sample.glance import signups_by_month

    return signups_by_month(shared.SAMPLE_FILES["users"])


def sample_at_a_glance() -> None:
    """Who is in the sample: signups per month by plan, and the plans' shares. Drawn while the
    sample's analysis runs, it also has the browser load the chart and table code the
    Candidates page needs, before anyone clicks."""
    from northstar_lab.sample.glance import plan_table, signups_chart

    with shared.contained("The sample's overview"):
        by_month = _sample_signups()
        st.altair_chart(signups_chart(by_month), width="stretch")
        st.dataframe(
            plan_table(by_month),
            hide_index=True,
            column_config={"share": st.column_config.NumberColumn("share", format="percent")},
            key="home_sample_plans",
        )


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
            shared.commit()
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
    sample_at_a_glance()

with right:
    st.subheader("Loaded now")
    ref = shared.dataset()
    if ref is None:
        st.text("Nothing yet.")
    else:
        st.text(ref.get("label", "Your data"))  # file and table names are data: plain text
        result = shared.cached_analysis()
        if result is not None:
            r = result.ranking
            info = r.data
            st.text(
                f"{r.n_users:,} users in the retention analysis ({r.n_churned:,} churned); "
                f"signups {info.signup_min or '?'} to {info.signup_max or '?'}; "
                f"data as of {info.as_of}."
            )
            st.text(f"Current leader: {r.leader.name}")
    w = shared.workshop()
    if w is not None:
        st.text(f"Workshop: {shared.state().title or 'North Star workshop'}")
        st.page_link(
            "pages/workshop.py", label="Back to the workshop", icon=":material/how_to_vote:"
        )

st.divider()
st.subheader("Decisions recorded")
try:
    decisions = shared.store().list_decisions()
except InputError as exc:  # a broken database must not hide the rest of the page
    st.error(f"The decision database could not be opened. {exc.for_app()}")
    decisions = []
if not decisions:
    st.write("None yet. Record one at the end of the workshop.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": d["id"],
                    "title": d["title"],
                    "north star": d.get("chosen_name", ""),
                    "version": d.get("version", 1),
                    "recorded": str(d.get("created_at", ""))[:10],
                    "latest re-validation": d.get("latest_verdict") or "not re-validated",
                }
                for d in decisions
            ]
        ),
        hide_index=True,
        width="stretch",
        key="home_decisions",
    )
    links = st.columns(min(len(decisions), 6))
    for i, d in enumerate(decisions[:12]):
        links[i % len(links)].page_link(
            "pages/rationale.py",
            label=f"Open decision #{int(d['id'])}",
            icon=":material/description:",
            query_params={"decision": str(int(d["id"]))},
        )
shared.commit()  # save as we go (app.py saves at the end of every run, too)
