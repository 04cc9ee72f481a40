-- The overdue backlog counts every open overdue dossier once: at each month end, the nation's
-- backlog equals the number of distinct dossiers received before the end, past due at it and
-- not closed by then (recounted here directly), and the provinces add up to the nation. The
-- month ends from the earliest month a dossier changed since the dossier tests last passed was
-- received in (macros/test_scope.sql), else every month end.
{%- set changed = dossier_months_changed_since_tested(
    ref('stg_dossier_feed__dossier_versions'), 'snapshot_month'
) %}
with

backlog as (

    select * from {{ ref('int_dossier_backlog__month_ends') }}
    {%- if changed is not none %}
    where {{ changed }}
    {%- endif %}

),

month_ends as (

    select distinct
        source_system,
        snapshot_month,
        cast(snapshot_month + interval 1 month as timestamp) as snapshot_at
    from backlog
    where unit_level = 'nation'

),

recounted as (

    select
        m.source_system,
        m.snapshot_month,
        count(distinct d.dossier_id) as n_dossiers
    from month_ends as m
    inner join {{ ref('int_dossiers__enriched') }} as d
        on m.source_system = d.source_system
            and m.snapshot_at > d.received_at
            and m.snapshot_at > d.due_at
            and (d.closed_at is null or m.snapshot_at <= d.closed_at)
    where d.province_unit_key is not null
    group by all

),

levels as (

    select
        source_system,
        snapshot_month,
        sum(n_overdue_backlog) filter (where unit_level = 'nation') as nation,
        sum(n_overdue_backlog) filter (where unit_level = 'province') as provinces
    from backlog
    group by all

)

select
    l.*,
    coalesce(r.n_dossiers, 0) as recounted
from levels as l
left join recounted as r
    on l.source_system = r.source_system and l.snapshot_month = r.snapshot_month
where l.nation <> coalesce(r.n_dossiers, 0) or l.nation <> coalesce(l.provinces, 0)
