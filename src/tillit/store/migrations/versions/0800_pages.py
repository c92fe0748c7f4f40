"""pages people see: dialogue sign-up, moderation log, organisational units (#19)

Reserved in the migration chain so that the work on this area can land independently;
it changes nothing until the area's tables are added here.

Revision ID: 0800
Revises: 0700
"""

revision = "0800"
down_revision = "0700"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
