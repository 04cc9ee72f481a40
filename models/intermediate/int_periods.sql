-- The reporting calendar: every year, half-year, quarter and month between the configured
-- years, with the period before it (same grain) and the same period a year earlier.

with

years as (

    select y::integer as period_year
    from range({{ var('calendar_first_year') }}, {{ var('calendar_last_year') }} + 1) as t (y)

),

months as (

    select
        period_year,
        m::integer as period_month,
        make_date(period_year, m::integer, 1) as month_start
    from years
    cross join range(1, 13) as t (m)

),

periods as (

    select
        'year' as period_grain,
        period_year::varchar as period,
        make_date(period_year, 1, 1) as period_start,
        make_date(period_year, 12, 31) as period_end,
        period_year,
        1 as period_number
    from years

    union all

    select
        'half_year',
        period_year || '-H' || h,
        make_date(period_year, 6 * h - 5, 1),
        last_day(make_date(period_year, 6 * h, 1)),
        period_year,
        h
    from years cross join (values (1), (2)) as t (h)

    union all

    select
        'quarter',
        period_year || '-Q' || q,
        make_date(period_year, 3 * q - 2, 1),
        last_day(make_date(period_year, 3 * q, 1)),
        period_year,
        q
    from years cross join (values (1), (2), (3), (4)) as t (q)

    union all

    select
        'month',
        strftime(month_start, '%Y-%m'),
        month_start,
        last_day(month_start),
        period_year,
        period_month
    from months

)

select
    period,
    period_grain,
    period_start,
    period_end,
    period_year,
    period_number,
    lag(period) over (partition by period_grain order by period_start) as previous_period,
    case
        when period_grain = 'year' then (period_year - 1)::varchar
        else (period_year - 1)::varchar || substr(period, 5)
    end as same_period_previous_year
from periods
