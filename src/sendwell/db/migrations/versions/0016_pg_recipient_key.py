"""PostgreSQL: the ledger's campaign key checked once per statement instead of once per row

PostgreSQL checks a foreign key with one trigger call per inserted row: resolving an audience of 690,000
recipients spent 1.6 s of its 4.4 s there (docs/performance.md, "PostgreSQL"). On PostgreSQL only, the key
`recipients.campaign_id -> campaigns.id` (ON DELETE CASCADE) is replaced by triggers keeping the same rules:

- inserting recipients: one check per statement over its new rows (a transition table), taking the same
  FOR KEY SHARE lock on their campaigns that the key took, so a campaign deleted concurrently either waits
  for the insert (and then deletes its rows) or makes the insert fail;
- changing a recipient's campaign, or a campaign's id: a row check, called only when the value changes
  (the application does neither);
- deleting campaigns: their recipients deleted (the CASCADE), once per statement;
- TRUNCATE campaigns: refused while recipients remain (as the key refused it).

The key's integrity holds at READ COMMITTED, the isolation the application uses; unlike a key, a deletion
in a REPEATABLE READ transaction does not see recipients committed after its snapshot.
SQLite keeps its foreign key (it checks it cheaply); db/schema.py declares the key for both.

Revision ID: 0016_pg_recipient_key
Revises: 0015_jobs
Create Date: 2026-12-06 17:00:00
"""
from alembic import op

revision = '0016_pg_recipient_key'
down_revision = '0015_jobs'
branch_labels = None
depends_on = None

KEY = 'fk_recipients_campaign_id_campaigns'

_UPGRADE = [
    f'ALTER TABLE recipients DROP CONSTRAINT {KEY}',
    # the message and DETAIL of the foreign key's own error, so readers of either see the same thing
    """
    CREATE FUNCTION recipients_campaign_check() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        ids bigint[];
        found integer;
        missing bigint;
    BEGIN
        IF TG_LEVEL = 'ROW' THEN
            ids := ARRAY[NEW.campaign_id];
        ELSE
            SELECT array_agg(DISTINCT campaign_id) INTO ids FROM new_rows;
        END IF;
        IF ids IS NULL THEN
            RETURN NULL;
        END IF;
        -- the lock the key took: a concurrent deletion of one of these campaigns waits for us, or we for it
        SELECT count(*) INTO found FROM (SELECT 1 FROM campaigns WHERE id = ANY (ids) FOR KEY SHARE) AS locked;
        IF found < cardinality(ids) THEN
            SELECT min(i) INTO missing FROM unnest(ids) AS i WHERE NOT EXISTS (SELECT 1 FROM campaigns WHERE id = i);
            RAISE foreign_key_violation USING
                MESSAGE = 'insert or update on table "recipients" violates foreign key constraint "' || TG_NAME || '"',
                DETAIL = format('Key (campaign_id)=(%s) is not present in table "campaigns".', missing),
                TABLE = 'recipients', CONSTRAINT = TG_NAME;
        END IF;
        RETURN NULL;
    END $$
    """,
    # (transition tables are allowed for one event only and without a column list: inserts get the
    # statement trigger, a changed campaign_id a row trigger)
    """
    CREATE TRIGGER recipients_campaign_insert AFTER INSERT ON recipients
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recipients_campaign_check()
    """,
    """
    CREATE TRIGGER recipients_campaign_update AFTER UPDATE OF campaign_id ON recipients
    FOR EACH ROW WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id) EXECUTE FUNCTION recipients_campaign_check()
    """,
    """
    CREATE FUNCTION campaigns_delete_recipients() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM recipients AS r USING old_rows AS o WHERE r.campaign_id = o.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER campaigns_delete_recipients AFTER DELETE ON campaigns
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_delete_recipients()
    """,
    """
    CREATE FUNCTION campaigns_keep_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            PERFORM 1 FROM recipients LIMIT 1;
        ELSE
            PERFORM 1 FROM recipients WHERE campaign_id = OLD.id LIMIT 1;
        END IF;
        IF FOUND THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'campaigns still referenced from table "recipients"', TABLE = 'campaigns';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER campaigns_id_referenced AFTER UPDATE OF id ON campaigns
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION campaigns_keep_referenced()
    """,
    # after the whole TRUNCATE, so truncating both tables in one command passes
    """
    CREATE TRIGGER campaigns_truncate_referenced AFTER TRUNCATE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION campaigns_keep_referenced()
    """,
]

_DOWNGRADE = [
    'DROP TRIGGER campaigns_truncate_referenced ON campaigns',
    'DROP TRIGGER campaigns_id_referenced ON campaigns',
    'DROP FUNCTION campaigns_keep_referenced()',
    'DROP TRIGGER campaigns_delete_recipients ON campaigns',
    'DROP FUNCTION campaigns_delete_recipients()',
    'DROP TRIGGER recipients_campaign_update ON recipients',
    'DROP TRIGGER recipients_campaign_insert ON recipients',
    'DROP FUNCTION recipients_campaign_check()',
    f'ALTER TABLE recipients ADD CONSTRAINT {KEY} FOREIGN KEY (campaign_id) '
    'REFERENCES campaigns (id) ON DELETE CASCADE',
]


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for statement in _DOWNGRADE:
            op.execute(statement)
