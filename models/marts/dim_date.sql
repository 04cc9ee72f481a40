-- Lịch ngày: one row per day of the reporting calendar, with the period codes each day falls in
-- (the warehouse's notation: 2025-04, 2025-Q2, 2025-H1, 2025). The semantic layer's time spine
-- (MetricFlow joins it for offsets such as "the same quarter last year"); analysts can join it
-- to turn dates into period codes.

{%- set first_day = modules.datetime.date(var('calendar_first_year') | int, 1, 1) %}
{%- set end_day = modules.datetime.date(var('calendar_last_year') | int + 1, 1, 1) %}

with

days as (

    select date '{{ first_day }}' + cast(t.n as integer) as date_day
    from range(0, {{ (end_day - first_day).days }}) as t (n)

)

select
    date_day,
    {{ month_text('date_day') }} as period_month,
    cast(year(date_day) as string) || '-Q' || cast(quarter(date_day) as string) as period_quarter,
    cast(year(date_day) as string) || '-H' || case when month(date_day) <= 6 then '1' else '2' end
        as period_half_year,
    cast(year(date_day) as string) as period_year
from days
