-- Current dossiers with the units they belonged to on the day they were received, and one 0/1
-- flag per measure (a missing value never makes a flag null: it counts as 0). A dossier
-- counts in the month it was received (see docs/design.md). An agency code retired by the
-- March 2025 department merger, still used on later dossiers, is followed to its successor.
-- The current versions are the rows of int_dossiers__current (a view), taken here directly:
-- the ingest marks the versions it replaces, so a build filters instead of ranking them.
-- Incremental: a run recomputes only the dossiers whose current version was loaded since the
-- last run (or received in the months a partitioned run asks for); the rows they replace are
-- deleted within the months they can be in (strategy `replace_dossiers`). Nothing here depends
-- on the rest of the feed, so a dossier's row is the same however it was built. On Spark a run
-- recomputes whole months instead, those same months, and overwrites their partitions
-- (macros/engines/incremental.sql).

{{
    config(
        materialized='incremental',
        incremental_strategy=engine_strategy('replace_dossiers'),
        partition_by=engine_partition_by('received_month'),
        unique_key=['source_system', 'dossier_id'],
        meta={
            'dossier_keys': ['source_system', 'dossier_id'],
            'watermark_column': 'load_id',
        },
    )
}}

{%- set whole_months = recomputes_whole_months() %}
{%- set month_range = is_incremental() and not whole_months and dossier_month_range() %}

with

{% if month_range -%}
changed as (

    {{ changed_dossiers(['source_system', 'dossier_id'], watermark_column='load_id') }}

),

{% endif -%}
dossiers as (

    select {{ star_except('versions', ['applicant_key', 'superseded_by_load_id']) }}
    from {{ ref('stg_dossier_feed__dossier_versions') }} as versions
    {% if month_range -%}
        semi join changed using (source_system, dossier_id)
    {% endif -%}
    where versions.superseded_by_load_id is null
    {%- if whole_months %}
        -- every dossier of the months the run replaces
        and {{ month_in("cast(date_trunc('month', versions.received_at) as date)", partitions_to_replace()) }}
    {%- elif is_incremental() and not month_range %}
        -- a dossier whose current version is older was not changed by the new loads
        and versions.load_id > {{ dossier_watermark('load_id') }}
    {%- endif %}

),

units as (

    select * from {{ ref('int_units') }}

),

-- a retired agency code and the later agency that held its business on each day
successors as (

    select
        u.unit_code,
        l.later_unit_key,
        l.held_from,
        l.held_to
    from {{ ref('int_unit_lineage') }} as l
    inner join units as u on l.unit_key = u.unit_key
    where u.unit_level = 'agency'
        and l.generations > 0

),

resolved as (

    select
        d.*,
        cast(d.received_at as date) as received_date,
        cast(date_trunc('month', d.received_at) as date) as received_month,
        u.unit_level as resolved_unit_level,
        u.province_unit_key,
        u.district_unit_key,
        case when u.unit_level = 'commune' then u.unit_key end as commune_unit_key,
        coalesce(a.unit_key, s.later_unit_key) as agency_unit_key,
        a.unit_key is null and s.later_unit_key is not null as agency_via_successor,
        -- when the dossier left the queue (null while it is still being processed)
        {{ dossier_closed_at('d') }} as closed_at
    from dossiers as d
    left join units as u
        on d.unit_code = u.unit_code
            and u.unit_level in ('commune', 'province')
            and cast(d.received_at as date) between u.valid_from and coalesce(u.valid_to, {{ end_of_time() }})
    left join units as a
        on d.agency_code = a.unit_code
            and a.unit_level = 'agency'
            and cast(d.received_at as date) between a.valid_from and coalesce(a.valid_to, {{ end_of_time() }})
    -- only when the code names no agency that day; said as an equality on the dossier's side
    -- (null otherwise), so the join stays a hash join instead of a nested loop over all rows
    left join successors as s
        on s.unit_code = case when a.unit_key is null then d.agency_code end
            and cast(d.received_at as date) between s.held_from and coalesce(s.held_to, {{ end_of_time() }})

),

flagged as (

    select
        source_system,
        dossier_id,
        received_month,
        received_date,
        province_unit_key,
        district_unit_key,
        commune_unit_key,
        agency_unit_key,
        agency_via_successor,
        status,
        load_id,
        -- when this row was written: a run that rewrites rows without a new load (a partitioned
        -- run's month range) is seen downstream (int_dossier_backlog__month_ends)
        cast(now() as timestamp) as built_at,
        received_at,
        due_at,
        closed_at,
        1 as n_received,
        cast(coalesce(channel = 'online', false) as integer) as n_online,
        cast(coalesce(channel = 'online' and online_level = 'full', false) as integer) as n_full_online,
        cast(coalesce(status = 'finished' and finished_at is not null, false) as integer) as n_finished,
        cast(coalesce(status = 'finished' and finished_at <= due_at, false) as integer) as n_finished_on_time,
        -- closed on or before its due time: Decision 766's "resolution progress" counts these,
        -- and the dossiers still in process and not yet due when the feed was last updated
        -- (added per month in int_dossier_measures__monthly, as "now" moves with every load)
        cast(coalesce(closed_at <= due_at, false) as integer) as n_closed_in_time,
        cast(coalesce(fee_amount > 0 and payment_channel is not null, false) as integer) as n_paid,
        cast(coalesce(fee_amount > 0 and payment_channel = 'online', false) as integer) as n_paid_online,
        cast(coalesce(is_digitized, false) as integer) as n_digitized,
        cast(coalesce(status = 'finished' and finished_at is not null and has_e_result, false) as integer)
            as n_e_result,
        cast(coalesce(reused_data, false) as integer) as n_reused_data,
        cast(coalesce(identity_verified, false) as integer) as n_identity_verified,
        cast(coalesce(satisfaction is not null, false) as integer) as n_rated,
        cast(coalesce(satisfaction in ('very_satisfied', 'satisfied'), false) as integer) as n_satisfied,
        cast(coalesce(synced_national_at is not null, false) as integer) as n_synced_national,
        -- with a financial obligation (a fee), paid or not: the 766 payment term A's denominator
        cast(coalesce(fee_amount > 0, false) as integer) as n_fee_charged,
        cast(coalesce(satisfaction = 'dissatisfied', false) as integer) as n_dissatisfied,
        -- digitised at intake and given an electronic result (766's SO_HOA_GIAY_TO_GIAI_QUYET)
        cast(
            coalesce(is_digitized and status = 'finished' and finished_at is not null and has_e_result, false)
            as integer
        ) as n_digitized_e_result

    from resolved

)

select * from flagged
