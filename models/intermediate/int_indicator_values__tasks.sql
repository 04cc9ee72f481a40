-- Task-register indicators per responsible unit and plan year: the task-completion rate
-- (tasks done / all tasks of the year), a snapshot at the register's date (`as_of`).

with

counts as (

    select * from {{ ref('int_task_counts') }}

),

periods as (

    select
        period,
        period_grain,
        period_start,
        period_end,
        period_year
    from {{ ref('int_periods') }}
    where period_grain = 'year'

),

catalogue as (

    select indicator_code
    from {{ ref('indicators') }}
    where source = 'tasks'
        and numerator_measure = 'n_tasks_done'
        and denominator_measure = 'n_tasks'

)

select
    c.unit_level,
    c.unit_key,
    p.period,
    p.period_grain,
    p.period_start,
    p.period_end,
    c.as_of,
    catalogue.indicator_code,
    '' as dimension,
    c.n_tasks_done::double as numerator,
    c.n_tasks::double as denominator,
    true as has_counts
from counts as c
inner join periods as p on c.plan_year = p.period_year
cross join catalogue
