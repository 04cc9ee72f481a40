-- The overdue backlog at every month end, per source system and unit, at every level: dossiers
-- received before the end of the month, past due at its end, and not closed by then (finished,
-- returned, withdrawn or rejected later, or not yet). A snapshot: quarters, half-years and years
-- take the value at their last month end, never a sum. Each dossier counts in the unit that
-- holds it at the month end (its own unit, or the unit that took it over whole on
-- 1 March / 1 July 2025); a commune split in 2025 passes its open dossiers to no commune, only
-- to its province. Month ends later than the newest dossier update are not known yet and left
-- out. Units with dossiers that month and no overdue ones get 0.
-- Incremental: a run replaces whole month ends (strategy `replace_months`): those the feeds
-- have passed since the last run, those a changed dossier's versions were overdue at (only the
-- months between their ends when the dossier stayed where it was), those whose counts changed,
-- and those of rows int_dossiers__enriched rewrote with no new version
-- (`backlog_months_to_replace`). It reads only the dossiers open at one of them.

{{
    config(
        materialized='incremental',
        incremental_strategy=engine_strategy('replace_months'),
        partition_by=engine_partition_by('snapshot_month'),
        unique_key='snapshot_month',
        meta={
            'months_of_backlog': true,
        },
    )
}}

{%- set months = backlog_months_to_replace() if is_incremental() else none %}

with

dossiers as (

    -- every dossier that can be overdue at a month end: the rest never is
    select * from {{ ref('int_dossiers__backlog_candidates') }}
    where province_unit_key is not null
    {%- if months is not none %}
        {%- if months %}
        -- due before the last month end asked for, open after the first
        and received_month <= date '{{ months[-1] }}'
        and due_at < date '{{ months[-1] }}' + interval 1 month
        and (closed_at is null or closed_at >= date '{{ months[0] }}' + interval 1 month)
        {%- else %}
        and false
        {%- endif %}
    {%- endif %}

),

horizons as (

    -- what the feed knows: nothing after its newest update
    select
        source_system,
        as_of as known_until
    from {{ ref('int_dossier_feeds__as_of') }}

),

lineage as (

    select
        unit_key,
        later_unit_key,
        held_from,
        coalesce(held_to, {{ end_of_time() }}) as held_to
    from {{ ref('int_unit_lineage') }}

),

overdue as (

    -- one row per dossier and month end at which it was overdue and open;
    -- month_end_at is the first instant after the month (the snapshot instant)
    select
        d.source_system,
        d.province_unit_key,
        d.district_unit_key,
        d.commune_unit_key,
        d.agency_unit_key,
        -- an incremental run starts at the first month end it asks for
        {{ unnest_array(month_series(
            "cast(greatest(
                date_trunc('month', greatest(d.due_at, d.received_at)) + interval 1 month,
                date '" ~ (months[0] if months else var("history_start")) ~ "' + interval 1 month
            ) as timestamp)",
            'cast(least(coalesce(d.closed_at, h.known_until), h.known_until) as timestamp)'
        )) }} as month_end_at
    from dossiers as d
    inner join horizons as h on d.source_system = h.source_system

),

overdue_asked as (

    select * from overdue
    {%- if months is not none %}
    where {{ month_in('cast(month_end_at - interval 1 month as date)', months) }}
    {%- endif %}

),

placed as (

    -- the units holding each dossier at the month end
    select
        o.source_system,
        cast(o.month_end_at - interval 1 month as date) as snapshot_month,
        p.later_unit_key as province_unit_key,
        di.later_unit_key as district_unit_key,
        c.later_unit_key as commune_unit_key,
        a.later_unit_key as agency_unit_key
    from overdue_asked as o
    inner join lineage as p
        on o.province_unit_key = p.unit_key
            and cast(o.month_end_at as date) - 1 between p.held_from and p.held_to
    left join lineage as di
        on o.district_unit_key = di.unit_key
            and cast(o.month_end_at as date) - 1 between di.held_from and di.held_to
    left join lineage as c
        on o.commune_unit_key = c.unit_key
            and cast(o.month_end_at as date) - 1 between c.held_from and c.held_to
    left join lineage as a
        on o.agency_unit_key = a.unit_key
            and cast(o.month_end_at as date) - 1 between a.held_from and a.held_to

),

counted as (

    select
        source_system,
        snapshot_month,
        {{ grouped_unit_level_and_key() }},
        count(*) as n_overdue_backlog
    from placed
    group by {{ unit_grouping_sets(['source_system', 'snapshot_month']) }}  -- noqa: PRS

),

active as (

    -- units that received dossiers in a month whose end the feed already knows
    select distinct
        m.source_system,
        m.received_month as snapshot_month,
        m.unit_level,
        m.unit_key
    from {{ ref('int_dossier_measures__monthly') }} as m
    inner join horizons as h on m.source_system = h.source_system
    where m.received_month + interval 1 month <= h.known_until
    {%- if months is not none %}
        and {{ month_in('m.received_month', months) }}
    {%- endif %}

),

grid as (

    select * from active
    union
    select
        source_system,
        snapshot_month,
        unit_level,
        unit_key
    from counted
    where unit_level = 'nation' or unit_key is not null

)

select
    g.source_system,
    g.snapshot_month,
    last_day(g.snapshot_month) as snapshot_date,
    g.unit_level,
    g.unit_key,
    cast(coalesce(c.n_overdue_backlog, 0) as bigint) as n_overdue_backlog,
    -- the newest raw load and the newest rewrite of int_dossiers__enriched's candidates when
    -- the row was computed: the watermarks of the next run
    (select max(v.load_id) from {{ ref('stg_dossier_feed__dossier_versions') }} as v) as last_load_id,
    (select max(e.built_at) from {{ ref('int_dossiers__backlog_candidates') }} as e) as enriched_built_at
from grid as g
left join counted as c
    on g.source_system = c.source_system
        and g.snapshot_month = c.snapshot_month
        and g.unit_level = c.unit_level
        and g.unit_key = c.unit_key
