-- The newest version of every dossier, per source system (older versions stay in raw), without
-- the applicant's pseudonym: no model counts applicants, and its 64 characters per dossier are a
-- third of the cost of this table at national scale.
-- Incremental: a run recomputes only the dossiers with a version loaded since the last run (or
-- received in the months a partitioned run asks for), from all of their versions.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source_system', 'dossier_id'],
    )
}}

with

versions as (

    select * from {{ ref('stg_dossier_feed__dossier_versions') }}

){% if is_incremental() %},

changed as (

    {{ changed_dossiers(['source_system', 'dossier_id'], watermark_column='load_id') }}

){% endif %}

select versions.* exclude (versions.applicant_key)
from versions
{% if is_incremental() -%}
    semi join changed using (source_system, dossier_id)
{% endif -%}
qualify row_number() over (
        partition by versions.source_system, versions.dossier_id
        order by versions.updated_at desc, versions.load_id desc, versions.source_row_number desc
    ) = 1
