\set n random(1, :rows)
SELECT i.dfid, i.created_by, i.status, i.enriched_data, i.updated_at FROM items i WHERE i.dfid = (SELECT dfid FROM canonical_names WHERE key = 'rfid' AND value = 'RF' || lpad(:n::text, 12, '0'));
