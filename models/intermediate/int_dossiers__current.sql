-- The newest version of every dossier, per source system (older versions stay in raw).

with

versions as (

    select * from {{ ref('stg_dossier_feed__dossier_versions') }}

)

select *
from versions
qualify row_number() over (
        partition by source_system, dossier_id
        order by updated_at desc, load_id desc, source_row_number desc
    ) = 1
