-- Đối soát hồ sơ: per unit (as it was) and period, the dossiers in the provincial one-stop
-- system and on the national portal, matched on their id, what is only on one side, and the
-- matched dossiers whose status or receiving unit differ. Each check of the
-- `reconciliation_checks` seed flags a row whose share passes its threshold (on at least
-- `min_dossiers` dossiers). `sync_rate` (matched / provincial) is what the Decision 766 index
-- scores; `self_reported_sync_rate` is what the provincial system believes it sent.

with

monthly as (

    select * from {{ ref('int_dossier_reconciliation__monthly') }}

),

periods as (

    select
        period,
        period_grain,
        period_start,
        period_end,
        period_year
    from {{ ref('int_periods') }}

),

units as (

    select
        unit_key,
        unit_code,
        unit_name,
        province_unit_key
    from {{ ref('int_units') }}

),

checks as (

    select * from {{ ref('reconciliation_checks') }}

),

by_period as (

    select
        m.unit_level,
        m.unit_key,
        p.period,
        p.period_grain,
        p.period_start,
        p.period_end,
        p.period_year,
        sum(m.n_provincial)::bigint as n_provincial,
        sum(m.n_portal)::bigint as n_portal,
        sum(m.n_matched)::bigint as n_matched,
        sum(m.n_only_provincial)::bigint as n_only_provincial,
        sum(m.n_only_portal)::bigint as n_only_portal,
        sum(m.n_status_mismatch)::bigint as n_status_mismatch,
        sum(m.n_unit_mismatch)::bigint as n_unit_mismatch,
        sum(m.n_matched_via_successor)::bigint as n_matched_via_successor,
        sum(m.n_provincial_says_synced)::bigint as n_provincial_says_synced
    from monthly as m
    inner join periods as p on m.received_month between p.period_start and p.period_end
    group by all

),

measures as (

    {{ unpivot_columns(
        'by_period', ['unit_level', 'unit_key', 'period', 'period_grain', 'period_start', 'period_end', 'period_year'],
        reconciliation_measures(), 'measure', 'measure_value'
    ) | indent(4) }}

),

checked as (

    select
        num.unit_key,
        num.period,
        c.check_code,
        den.measure_value >= c.min_dossiers
        and num.measure_value > c.max_share * den.measure_value as is_flagged
    from checks as c
    inner join measures as num on c.numerator_measure = num.measure
    inner join measures as den
        on c.denominator_measure = den.measure
            and num.unit_key = den.unit_key
            and num.period = den.period

),

flags as (

    select
        unit_key,
        period,
        nullif({{ join_array(sorted_list_agg('check_code', where='is_flagged'), ', ') }}, '') as flags
    from checked
    group by unit_key, period

)

select
    b.unit_key,
    u.unit_code,
    u.unit_name,
    b.unit_level,
    province.unit_code as province_code,
    b.period,
    b.period_grain,
    b.period_start,
    b.period_end,
    b.period_year,
    b.n_provincial,
    b.n_portal,
    b.n_matched,
    b.n_only_provincial,
    b.n_only_portal,
    b.n_status_mismatch,
    b.n_unit_mismatch,
    b.n_matched_via_successor,
    b.n_provincial - b.n_portal as difference,
    b.n_matched / nullif(b.n_provincial, 0) as sync_rate,
    b.n_provincial_says_synced / nullif(b.n_provincial, 0) as self_reported_sync_rate,
    b.n_only_provincial / nullif(b.n_provincial, 0) as only_provincial_share,
    b.n_only_portal / nullif(b.n_portal, 0) as only_portal_share,
    b.n_status_mismatch / nullif(b.n_matched, 0) as status_mismatch_share,
    b.n_unit_mismatch / nullif(b.n_matched, 0) as unit_mismatch_share,
    f.flags is not null as is_flagged,
    f.flags
from by_period as b
inner join units as u on b.unit_key = u.unit_key
left join units as province on u.province_unit_key = province.unit_key
left join flags as f on b.unit_key = f.unit_key and b.period = f.period
