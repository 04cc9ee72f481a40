-- The ingest marks the versions it replaces: every dossier keeps exactly one unmarked (current)
-- version, and no other version of it is newer. The dossiers with a version loaded or marked
-- since the dossier tests last passed (macros/test_scope.sql), else every dossier.
{%- set versions = ref('stg_dossier_feed__dossier_versions') %}
{%- set changed = dossiers_changed_since_tested(
    versions, ['source_system', 'dossier_id'], ['load_id', 'superseded_by_load_id'], ['received_at']
) %}
with

per_dossier as (

    select
        source_system,
        dossier_id,
        count(*) filter (where superseded_by_load_id is null) as n_current,
        max(updated_at) as newest_updated_at,
        max(updated_at) filter (where superseded_by_load_id is null) as current_updated_at
    from {{ versions }}
    {%- if changed is not none %}
    where {{ changed }}
    {%- endif %}
    group by source_system, dossier_id

)

select *
from per_dossier
where n_current <> 1
    or newest_updated_at > current_updated_at
