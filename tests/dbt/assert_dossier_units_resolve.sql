-- Every current dossier belongs to a unit that existed on the day it was received. Dossiers
-- that do not are left out of the indicators; this test names them (warning, not error: the
-- data-quality work quarantines them at ingest).
{{ config(severity='warn') }}

select
    source_system,
    dossier_id,
    received_date
from {{ ref('int_dossiers__enriched') }}
where province_unit_key is null
