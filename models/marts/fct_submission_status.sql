-- Who has sent the periodic submissions the reporting calendar expects (tình hình gửi báo cáo):
-- one row per unit and period, expected by the calendar seed or received anyway, with 0/1
-- flags expected / received / late / missing that add up over units, the day each submission
-- was sent, and the rows accepted and quarantined (int_submissions__received). A submission is
-- received when any file carried rows (accepted or quarantined) for the unit and period; it is
-- late when its first file was sent after the due date; it is missing when the due date has
-- passed without one. A submission whose every row was quarantined is received but
-- `rejected`: it must be sent again.
-- The status date is the build day (`--vars '{status_date: 2026-01-31}'` to look back, or the
-- environment variable DE06_STATUS_DATE: two builds that must agree pin the same day).

{%- set status_date = var(
    'status_date', env_var('DE06_STATUS_DATE', '') or run_started_at.strftime('%Y-%m-%d')
) %}

with

calendar as (

    select * from {{ ref('reporting_calendar') }}

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
        coalesce(valid_to, {{ end_of_time() }}) as valid_to
    from {{ ref('int_units') }}

),

expected as (

    -- every unit of the calendar's level that existed at the end of each period it covers,
    -- for periods that have ended by the status date
    select
        c.report_code,
        u.unit_key,
        u.unit_code,
        u.unit_level,
        p.period,
        p.period_grain,
        p.period_start,
        p.period_end,
        p.period_end + c.due_days_after_period_end as due_date
    from calendar as c
    inner join periods as first_period on c.first_period = first_period.period
    left join periods as last_period on c.last_period = last_period.period
    inner join periods as p
        on c.period_grain = p.period_grain
            and first_period.period_start <= p.period_start
            and p.period_start <= coalesce(last_period.period_start, {{ end_of_time() }})
            and p.period_end < cast('{{ status_date }}' as date)
    inner join units as u
        on c.unit_level = u.unit_level
            and p.period_end between u.valid_from and u.valid_to

),

received as (

    select * from {{ ref('int_submissions__received') }}

),

unexpected as (

    -- received from a unit the calendar does not ask (placed on the unit valid at the
    -- period's end, else the last one valid during it)
    select
        cast(null as string) as report_code,
        u.unit_key,
        u.unit_code,
        u.unit_level,
        p.period,
        p.period_grain,
        p.period_start,
        p.period_end,
        cast(null as date) as due_date
    from received as r
    inner join periods as p on r.period = p.period
    inner join units as u
        on r.unit_code = u.unit_code
            and p.period_end >= u.valid_from
            and p.period_start <= u.valid_to
    where not exists (
            select 1 from expected as e
            where e.unit_code = r.unit_code and e.period = r.period
        )
    qualify row_number() over (partition by r.unit_code, r.period order by u.valid_from desc) = 1

),

obligations as (

    select
        *,
        1 as expected
    from expected

    union all

    select
        *,
        0 as expected
    from unexpected

)

select
    o.unit_key,
    o.unit_code,
    o.unit_level,
    o.period,
    o.period_grain,
    o.period_start,
    o.period_end,
    o.report_code,
    o.due_date,
    o.expected,
    case when r.unit_code is not null then 1 else 0 end as received,
    case when cast(r.first_sent_at as date) > o.due_date then 1 else 0 end as late,
    case
        when o.expected = 1 and r.unit_code is null and o.due_date < cast('{{ status_date }}' as date)
            then 1
        else 0
    end as missing,
    case
        when o.expected = 0 then 'unexpected'
        when r.unit_code is null and o.due_date >= cast('{{ status_date }}' as date) then 'not_due_yet'
        when r.unit_code is null then 'missing'
        when r.rows_accepted = 0 then 'rejected'
        when cast(r.first_sent_at as date) > o.due_date then 'late'
        else 'on_time'
    end as status,
    case
        when cast(r.first_sent_at as date) > o.due_date
            -- dbt's cross-engine day count (Spark: a date minus a date is an interval)
            then cast(
                    {{ dbt.datediff('o.due_date', 'cast(r.first_sent_at as date)', 'day') }} as integer  -- noqa: LT05
                )
    end as days_late,
    r.first_sent_at,
    r.last_sent_at,
    coalesce(r.rows_accepted, 0) as rows_accepted,
    coalesce(r.rows_quarantined, 0) as rows_quarantined,
    coalesce(r.rows_quarantined_resolved, 0) as rows_quarantined_resolved,
    r.submission_files,
    cast('{{ status_date }}' as date) as status_date
from obligations as o
left join received as r on o.unit_code = r.unit_code and o.period = r.period
