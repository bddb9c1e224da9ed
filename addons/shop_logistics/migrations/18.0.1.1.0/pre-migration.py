"""Hold details became per-reader translated messages: keep the texts written before as plain texts."""


def migrate(cr, version):
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'logistics_order_hold' AND column_name = 'detail'
        """
    )
    if not cr.fetchone():
        return
    cr.execute("ALTER TABLE logistics_order_hold ADD COLUMN IF NOT EXISTS detail_data jsonb")
    cr.execute(
        """
        UPDATE logistics_order_hold
           SET detail_data = jsonb_build_object('text', detail)
         WHERE detail IS NOT NULL AND detail_data IS NULL
        """
    )
    cr.execute("ALTER TABLE logistics_order_hold DROP COLUMN detail")
