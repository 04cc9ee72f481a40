-- Progress of the Project 06 task register (tiến độ thực hiện nhiệm vụ) per responsible unit
-- and plan year, with the nation's totals: tasks done, in progress and not started, the
-- total, the completion rate (done / total) and the overdue tasks (past their deadline at the
-- register's date and not done). A snapshot as of the register's newest update (`as_of`).

with

counts as (

    select * from {{ ref('int_task_counts') }}

),

with_nation as (

    select
        unit_key,
        unit_level,
        unit_code,
        plan_year,
        as_of,
        n_tasks,
        n_tasks_done,
        n_tasks_in_progress,
        n_tasks_not_started,
        n_tasks_central,
        n_tasks_overdue,
        1 as units_reporting
    from counts

    union all

    select
        'VN@{{ var("history_start") }}' as unit_key,
        'nation' as unit_level,
        'VN' as unit_code,
        plan_year,
        max(as_of) as as_of,
        sum(n_tasks) as n_tasks,
        sum(n_tasks_done) as n_tasks_done,
        sum(n_tasks_in_progress) as n_tasks_in_progress,
        sum(n_tasks_not_started) as n_tasks_not_started,
        sum(n_tasks_central) as n_tasks_central,
        sum(n_tasks_overdue) as n_tasks_overdue,
        count(*) as units_reporting
    from counts
    where unit_level = 'province'
    group by plan_year

)

select
    unit_key,
    unit_code,
    unit_level,
    plan_year,
    as_of,
    n_tasks_done::bigint as tasks_done,
    n_tasks_in_progress::bigint as tasks_in_progress,
    n_tasks_not_started::bigint as tasks_not_started,
    n_tasks::bigint as tasks_total,
    n_tasks_done / n_tasks as completion_rate,
    n_tasks_central::bigint as tasks_central,
    n_tasks_overdue::bigint as tasks_overdue,
    units_reporting::bigint as units_reporting
from with_nation
