-- The Project 06 task register per responsible unit and plan year, as it stands: the newest
-- version of every task, counted by state. The unit is the one that carried the code at the
-- end of the plan year, else the last one that carried it during the year (a 2025 plan of a
-- province merged on 1 July 2025 stays with that province). `as_of` is the register's newest
-- update for the unit and year: the task figures are a snapshot at that date.

with

latest as (

    select * from {{ ref('stg_task_register__task_versions') }}
    qualify row_number() over (
            partition by unit_code, plan_year, task_id
            order by updated_at desc, load_id desc, source_row_number desc
        ) = 1

),

tasks as (

    select
        *,
        cast(max(updated_at) over (partition by unit_code, plan_year) as date) as register_date
    from latest

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

counted as (

    select
        unit_code,
        plan_year,
        count(*) as n_tasks,
        count(*) filter (where status = 'done') as n_tasks_done,
        count(*) filter (where status = 'in_progress') as n_tasks_in_progress,
        count(*) filter (where status = 'not_started') as n_tasks_not_started,
        count(*) filter (where origin = 'central') as n_tasks_central,
        max(register_date) as as_of,
        -- past their deadline at the register's date and not done
        count(*) filter (where status <> 'done' and deadline < register_date) as n_tasks_overdue
    from tasks
    group by unit_code, plan_year

)

select
    u.unit_key,
    u.unit_level,
    c.unit_code,
    c.plan_year,
    c.as_of,
    c.n_tasks,
    c.n_tasks_done,
    c.n_tasks_in_progress,
    c.n_tasks_not_started,
    c.n_tasks_central,
    c.n_tasks_overdue
from counted as c
inner join units as u
    on c.unit_code = u.unit_code
        and make_date(c.plan_year, 12, 31) >= u.valid_from
        and coalesce(u.valid_to, {{ end_of_time() }}) >= make_date(c.plan_year, 1, 1)
qualify row_number() over (partition by c.unit_code, c.plan_year order by u.valid_from desc) = 1
