-- The dossiers that are, were or may yet be in an overdue backlog at a month end: those with a
-- due time still open at the end of the month they fell due in (or were received in, if
-- later), closed since or not at all. About one dossier in eighty: what the backlog and the
-- count of open dossiers not yet due read, instead of every dossier.
-- Incremental: a run takes the rows int_dossiers__enriched rewrote since the newest one here
-- (`built_at`), deletes their dossiers and inserts those of them that are candidates (strategy
-- `replace_rebuilt`). A dossier finished on time after a late update leaves; one still open
-- comes in. On Spark a run recomputes the whole months int_dossiers__enriched rewrote since,
-- and overwrites their partitions (`rebuilt_months_to_replace`).

{{
    config(
        materialized='incremental',
        incremental_strategy=engine_strategy('replace_rebuilt'),
        partition_by=engine_partition_by('received_month'),
        unique_key=['source_system', 'dossier_id'],
        meta={
            'months_of_rebuilt': true,
        },
    )
}}

with

rebuilt as (

    select * from {{ ref('int_dossiers__enriched') }}
    {%- if recomputes_whole_months() %}
    where {{ month_in('received_month', partitions_to_replace()) }}
    {%- elif is_incremental() %}
    where {{ rebuilt_since_watermark() }}
    {%- endif %}

)

select
    source_system,
    dossier_id,
    received_month,
    province_unit_key,
    district_unit_key,
    commune_unit_key,
    agency_unit_key,
    received_at,
    due_at,
    closed_at,
    -- rated dissatisfied (766's satisfaction counts the open dossiers not due and not so rated)
    n_dissatisfied,
    load_id,
    built_at
from rebuilt
-- with or without a province: a dossier whose units stop resolving must leave the month ends
-- it was counted at (int_dossier_backlog__month_ends recomputes those of rewritten rows)
where due_at is not null
    -- open at the first month end after it was both received and due
    and (
        closed_at is null
        or closed_at >= date_trunc('month', greatest(due_at, received_at)) + interval 1 month
    )
