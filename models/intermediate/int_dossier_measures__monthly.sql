-- Additive monthly dossier measures per source system, month and unit, at every level at once:
-- the counts of int_dossier_counts__monthly, and n_in_time, Decision 766's "resolution
-- progress": closed within the due time, or still in process and not yet due at the newest
-- update of the feed. That last part moves with every load, so it is counted here, over the
-- dossiers still open, and not kept in the incremental counts. Quarters, half-years and years
-- are sums of these months. Beside it, the same judged at the end of each period grain, as the
-- portal judges it (`n_in_time_at_<grain>_end`, and `n_receiving_satisfied_at_<grain>_end`: in
-- time and not rated dissatisfied): a dossier still open counts when not due at the end of the
-- period it was received in, or at the feed's newest update while that period is still open.

with

counts as (

    select * from {{ ref('int_dossier_counts__monthly') }}

),

open_not_due as (

    select
        d.source_system,
        d.received_month,
        {{ grouped_unit_level_and_key() }},
        sum(case when d.due_at >= n.as_of then 1 else 0 end)::bigint as n_open_not_due,
        {{ sum_in_time_at_period_ends('open', 'd', 'n.as_of') }}
    -- every open dossier with a due time is a backlog candidate
    from {{ ref('int_dossiers__backlog_candidates') }} as d
    inner join {{ ref('int_dossier_feeds__as_of') }} as n on d.source_system = n.source_system
    where d.province_unit_key is not null
        and d.closed_at is null
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
    c.n_synced_national,
    c.n_fee_charged,
    c.n_dissatisfied,
    c.n_digitized_e_result,
    {{ add_in_time_at_period_ends('c', 'o') }}
from counts as c
left join open_not_due as o
    on c.source_system = o.source_system
        and c.received_month = o.received_month
        and c.unit_level = o.unit_level
        and c.unit_key = o.unit_key
