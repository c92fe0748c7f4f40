"""sessions, sign-in throttle and the survey release plan (#13)

Reserved in the migration chain so that the work on this area can land independently;
it changes nothing until the area's tables are added here.

Revision ID: 0520
Revises: 0510
"""

revision = "0520"
down_revision = "0510"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
