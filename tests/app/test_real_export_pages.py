"""Real export shapes in the app: the Candidates page's "Churn is this event" setting on a
Sparkify-shaped log (its cancellation pages are offered first, choosing one dates churn by
it), and the Data page's "every row is one event" on an Online Retail-shaped order log."""

from __future__ import annotations

import pytest

from tests.data.test_real_exports import online_retail_ii, sparkify_log

from .conftest import assert_clean, by_label, new_app, shown, table_with, texts

CONFIRM = "Cancellation Confirmation"


@pytest.fixture(autouse=True)
def _db(module_db):
    return module_db


def on_the_connect_tab(path):
    """A fresh session on the Data page with `path` typed as the source."""
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="conn_source").set_value(str(path)).run()
    return at


def test_choosing_the_cancellation_page_as_the_churn_event(tmp_path):
    path = tmp_path / "sparkify.json"
    sparkify_log(path, n_users=500)
    at = on_the_connect_tab(path)
    at.button(key="load_conn").click().run()
    assert_clean(at)
    at.switch_page("pages/candidates.py").run()
    assert_clean(at)
    picker = at.sidebar.selectbox(key="set_churn_event")
    assert picker.value.startswith("(none")
    assert set(picker.options[1:3]) == {"Cancel", CONFIRM}  # the cancellations come first
    at.sidebar.number_input(key="set_window").set_value(7)
    at.sidebar.selectbox(key="set_churn_event").set_value(CONFIRM)
    at.sidebar.button[0].click().run()  # "Apply settings"
    assert_clean(at)
    assert at.session_state["ws"].settings["churn_event"] == CONFIRM
    page = " ".join(texts(at.markdown) + texts(at.caption) + texts(at.info) + texts(at.text))
    assert f"the event '{CONFIRM}'" in page
    assert at.sidebar.selectbox(key="set_churn_event").value == CONFIRM  # kept on rerun


def test_an_order_log_without_an_event_column_loads_as_one_event(tmp_path):
    path = tmp_path / "online_retail_II.csv"
    online_retail_ii(path, n_users=300)
    at = on_the_connect_tab(path)
    assert at.selectbox(key="conn_ev_user").value == "Customer ID"
    assert at.selectbox(key="conn_ev_ts").value == "InvoiceDate"
    at.selectbox(key="conn_ev_event").set_value("(every row is one event)").run()
    at.text_input(key="conn_ev_one").set_value("purchase").run()
    at.button(key="load_conn").click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    at.switch_page("pages/candidates.py").run()
    assert_clean(at)
    page = " ".join(texts(at.markdown) + texts(at.caption) + texts(at.warning) + texts(at.text))
    assert "price per unit" in page


def test_a_users_workbook_uploads_and_ranks(tmp_path):
    import io

    import pandas as pd

    from tests.data.test_workbooks import _users

    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as w:
        pd.DataFrame({"Variable": ["CustomerID"]}).to_excel(w, sheet_name="Data Dict", index=False)
        _users().to_excel(w, sheet_name="E Comm", index=False)
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    at.file_uploader(key="up_users").upload("ecommerce.xlsx", buf.getvalue(), mime).run()
    assert_clean(at)
    by_label(at.selectbox, "User id").set_value("CustomerID")
    by_label(at.selectbox, "Tenure").set_value("Tenure")
    by_label(at.selectbox, "Tenure unit").set_value("months")
    by_label(at.selectbox, "Churn flag (with tenure)").set_value("Churn").run()
    at.button(key="load_upload").click().run()
    assert_clean(at)
    assert not at.error, texts(at.error)
    assert any("sheet 'E Comm' was read as the data" in shown(w) for w in texts(at.warning))
    at.switch_page("pages/candidates.py").run()
    assert_clean(at)
    assert table_with(at, "p_first").iloc[0]["key"] == "col:OrderCount"  # the planted driver
