"""Property: whatever an accountant copies, pastes, types over, sorts or deletes on the input
sheets, a sync never changes or deletes a store row the user did not edit (on both stores).
The cases and the rule are tests/reliability/copypaste.py's."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.copypaste import COLUMNS, OPS, SHEETS, base_book, one_case

steps = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 9), st.integers(0, 9), st.sampled_from(COLUMNS),
                           st.integers(0, 9)), min_size=1, max_size=5)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheet=st.sampled_from(SHEETS), steps=steps)
def test_no_store_row_the_user_did_not_edit_changes(backend, tmp_path_factory, sheet, steps):
    folder = tmp_path_factory.mktemp("identity")
    with backend.store() as store:
        assert one_case(store, folder, base_book(folder), sheet, steps) == []
