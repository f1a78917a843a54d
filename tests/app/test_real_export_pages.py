"""Real export shapes in the app: the Candidates page's "Churn is this event" setting on a
Sparkify-shaped log (its cancellation pages are offered first, choosing one dates churn by
it), and the Data page's "every row is one event" on an Online Retail-shaped order log."""

from __future__ import annotations

import pytest

from tests.data.test_real_exports import online_retail_ii, sparkify_log

from .conftest import assert_clean, new_app, texts

CONFIRM = "Cancellation Confirmation"


@pytest.fixture(autouse=True)
def _db(module_db):
    return module_db


def test_choosing_the_cancellation_page_as_the_churn_event(tmp_path):
    path = tmp_path / "sparkify.json"
    sparkify_log(path, n_users=500)
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="conn_source").set_value(str(path)).run()
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
    shown = " ".join(texts(at.markdown) + texts(at.caption) + texts(at.info) + texts(at.text))
    assert f"the event '{CONFIRM}'" in shown
    assert at.sidebar.selectbox(key="set_churn_event").value == CONFIRM  # kept on rerun


def test_an_order_log_without_an_event_column_loads_as_one_event(tmp_path):
    path = tmp_path / "online_retail_II.csv"
    online_retail_ii(path, n_users=300)
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="conn_source").set_value(str(path)).run()
    assert at.selectbox(key="conn_ev_user").value == "Customer ID"
    assert at.selectbox(key="conn_ev_ts").value == "InvoiceDate"
    at.selectbox(key="conn_ev_event").set_value("(every row is one event)").run()
    at.text_input(key="conn_ev_one").set_value("purchase").run()
    at.button(key="load_conn").click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    at.switch_page("pages/candidates.py").run()
    assert_clean(at)
    shown = " ".join(texts(at.markdown) + texts(at.caption) + texts(at.warning) + texts(at.text))
    assert "price per unit" in shown
