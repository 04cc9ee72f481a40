-- Lịch ngày: one row per day of the reporting calendar, with the period codes each day falls in
-- (the warehouse's notation: 2025-04, 2025-Q2, 2025-H1, 2025). The semantic layer's time spine
-- (MetricFlow joins it for offsets such as "the same quarter last year"); analysts can join it
-- to turn dates into period codes.

with

days as (

    select t.d::date as date_day
    from
        range(
            make_date({{ var('calendar_first_year') }}, 1, 1),
            make_date({{ var('calendar_last_year') }} + 1, 1, 1),
            interval 1 day
        ) as t (d)

)

select
    date_day,
    strftime(date_day, '%Y-%m') as period_month,
    year(date_day)::varchar || '-Q' || quarter(date_day)::varchar as period_quarter,
    year(date_day)::varchar || '-H' || (case when month(date_day) <= 6 then 1 else 2 end)::varchar
        as period_half_year,
    year(date_day)::varchar as period_year
from days
