-- The reporting calendar: every year, half-year, quarter and month between the configured
-- years, with the period before it (same grain) and the same period a year earlier.

with

years as (

    select t.y::integer as period_year
    from range({{ var('calendar_first_year') }}, {{ var('calendar_last_year') }} + 1) as t (y)

),

numbered as (

    -- the sub-periods of a year: 2 halves, 4 quarters, 12 months
    select
        years.period_year,
        grains.period_grain,
        grains.months_per_period,
        n.period_number::integer as period_number
    from years
    cross join (
        values ('half_year', 6), ('quarter', 3), ('month', 1)
    ) as grains (period_grain, months_per_period)
    cross join range(1, 13) as n (period_number)
    where n.period_number * grains.months_per_period <= 12

),

periods as (

    select
        'year' as period_grain,
        years.period_year::string as period,
        make_date(years.period_year, 1, 1) as period_start,
        make_date(years.period_year, 12, 31) as period_end,
        years.period_year,
        1 as period_number
    from years

    union all

    select
        numbered.period_grain,
        numbered.period_year::string || case numbered.period_grain
            when 'half_year' then '-H' || numbered.period_number
            when 'quarter' then '-Q' || numbered.period_number
            else '-' || lpad(numbered.period_number::string, 2, '0')
        end as period,
        make_date(
            numbered.period_year, (numbered.period_number - 1) * numbered.months_per_period + 1, 1
        ) as period_start,
        last_day(
            make_date(numbered.period_year, numbered.period_number * numbered.months_per_period, 1)
        ) as period_end,
        numbered.period_year,
        numbered.period_number
    from numbered

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
        when period_grain = 'year' then (period_year - 1)::string
        else (period_year - 1)::string || substr(period, 5)
    end as same_period_previous_year
from periods
