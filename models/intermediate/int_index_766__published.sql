-- The portal's 766 export, current captures only: for each page, period and province the
-- latest capture (then the latest load) wins; the earlier captures stay in the raw layer. Each row gets its
-- period's bounds, its unit as it was in the period, whether the capture was taken before the
-- period ended (provisional) and the file it came from.

with

evaluations as (

    select * from {{ ref('stg_portal766__evaluations') }}

),

-- one capture per file: the page and period of a province (the page's parent)
loads as (

    select
        load_id,
        page,
        period,
        any_value(captured_on) as captured_on,
        max(case when is_parent then unit_code end) as province_code
    from evaluations
    group by load_id, page, period

),

captures as (

    select
        *,
        row_number() over (
            partition by page, period, province_code order by captured_on desc, load_id desc
        ) as capture_rank
    from loads

),

periods as (

    select
        period,
        period_grain,
        period_start,
        period_end
    from {{ ref('int_periods') }}

),

units as (

    select
        unit_key,
        unit_code,
        unit_level,
        valid_from,
        valid_to
    from {{ ref('int_units') }}

),

files as (

    select
        load_id,
        file_name
    from {{ ref('stg_ingest__load_files') }}

)

select
    u.unit_key,
    e.unit_code,
    c.province_code,
    u.unit_level,
    e.portal_department_id,
    e.portal_department_code,
    e.portal_department_name,
    e.portal_department_type,
    e.is_parent,
    e.page,
    e.group_code,
    e.period,
    p.period_grain,
    p.period_start,
    p.period_end,
    e.captured_on,
    e.captured_on <= p.period_end as is_provisional,
    e.metric_code,
    e.metric_name,
    e.is_group_total,
    -- the unit's points on the page: a metric page's total, a tree page's single row
    e.is_group_total or e.page like '%-tree' as is_group_figure,
    e.unit_total_score,
    e.unit_total_max_score,
    e.numerator,
    e.denominator,
    e.ratio,
    e.score,
    e.max_score,
    e.data_quality_status,
    e.data_quality_message,
    e.total_received,
    e.total_on_time,
    e.total_overdue,
    e.dossiers_paid_online,
    e.dossiers_with_obligation,
    e.fee_procedures_paying_online,
    e.fee_procedures_fee_synced,
    e.fee_procedures,
    e.load_id,
    e.source_row_number,
    f.file_name as source_file
from evaluations as e
inner join captures as c
    on e.load_id = c.load_id
        and c.capture_rank = 1
inner join periods as p on e.period = p.period
left join units as u
    on e.unit_code = u.unit_code
        and p.period_end between u.valid_from and coalesce(u.valid_to, {{ end_of_time() }})
left join files as f on e.load_id = f.load_id
