-- Additive monthly dossier measures per source system, month and unit, at every level at once:
-- the counts of int_dossier_counts__monthly, and n_in_time, Decision 766's "resolution
-- progress": closed within the due time, or still in process and not yet due at the newest
-- update of the feed. That last part moves with every load, so it is counted here, over the
-- dossiers still open, and not kept in the incremental counts. Quarters, half-years and years
-- are sums of these months.

with

counts as (

    select * from {{ ref('int_dossier_counts__monthly') }}

),

open_not_due as (

    select
        d.source_system,
        d.received_month,
        {{ grouped_unit_level_and_key() }},
        count(*)::bigint as n_open_not_due
    -- every open dossier with a due time is a backlog candidate
    from {{ ref('int_dossiers__backlog_candidates') }} as d
    inner join {{ ref('int_dossier_feeds__as_of') }} as n on d.source_system = n.source_system
    where d.province_unit_key is not null
        and d.closed_at is null
        and d.due_at >= n.as_of
    group by {{ unit_grouping_sets(['d.source_system', 'd.received_month']) }}  -- noqa: PRS

)

select
    c.source_system,
    c.received_month,
    c.unit_level,
    c.unit_key,
    c.n_received,
    c.n_online,
    c.n_full_online,
    c.n_finished,
    c.n_finished_on_time,
    c.n_closed_in_time + coalesce(o.n_open_not_due, 0) as n_in_time,
    c.n_paid,
    c.n_paid_online,
    c.n_digitized,
    c.n_e_result,
    c.n_reused_data,
    c.n_identity_verified,
    c.n_rated,
    c.n_satisfied,
    c.n_synced_national
from counts as c
left join open_not_due as o
    on c.source_system = o.source_system
        and c.received_month = o.received_month
        and c.unit_level = o.unit_level
        and c.unit_key = o.unit_key
