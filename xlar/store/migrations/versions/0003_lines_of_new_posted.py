"""lines may be stored with a document posted as it is stored; no redundant journal index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

A sync stores a new row with Status posted in one step: the document (already numbered and
posted), its lines, then its open item and journal. The guard on document lines now refuses
a line once its document's posting is complete (it has an open item), instead of as soon as
its status is no longer draft; lines of posted documents still cannot be changed or deleted.
The journal's index on document_id goes: its unique (document_id, line_no) serves the same
lookups, and every posted journal line paid for both.
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_MESSAGE = "XLAR-E020 posted documents and ledger rows are immutable"
_RAISE = f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
_PARENT_POSTED = "(SELECT status FROM documents WHERE id = NEW.document_id) <> 'draft'"
_PARENT_BOOKED = "EXISTS (SELECT 1 FROM open_items WHERE open_items.document_id = NEW.document_id)"


def _pg_lines_guard(insert_refused_when: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION xlar_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE parent_status text;
BEGIN
  SELECT status INTO parent_status FROM documents
   WHERE id = (CASE WHEN TG_OP = 'INSERT' THEN NEW.document_id ELSE OLD.document_id END);
  IF TG_OP = 'INSERT' THEN
    IF {insert_refused_when} THEN RAISE EXCEPTION '{_MESSAGE}'; END IF;
    RETURN NEW;
  END IF;
  IF parent_status <> 'draft' THEN RAISE EXCEPTION '{_MESSAGE}'; END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$"""


def _sqlite_add_guard(when: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_document_lines_add")
    op.execute(f"CREATE TRIGGER trg_document_lines_add BEFORE INSERT ON document_lines WHEN {when} {_RAISE}")


def upgrade() -> None:
    op.drop_index("ix_journal_lines_document_id", table_name="journal_lines")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_lines_guard("parent_status <> 'draft' AND EXISTS (SELECT 1 FROM open_items "
                                   "WHERE open_items.document_id = NEW.document_id)"))
    else:
        _sqlite_add_guard(f"{_PARENT_POSTED} AND {_PARENT_BOOKED}")


def downgrade() -> None:
    op.create_index("ix_journal_lines_document_id", "journal_lines", ["document_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_lines_guard("parent_status <> 'draft'"))
    else:
        _sqlite_add_guard(_PARENT_POSTED)
