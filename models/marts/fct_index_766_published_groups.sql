-- Bộ chỉ số 766 as the national portal published it, per unit, period and group: the group's
-- points as published (a metric page's unit total, a tree page's unit score), the sum of its
-- published components, and the unit's total over the six groups (null until all six pages
-- of the period are loaded), with the published parent figures kept as published.

with

published as (

    select * from {{ ref('int_index_766__published') }}

),

groups as (

    select
        unit_code,
        any_value(unit_key) as unit_key,
        any_value(province_code) as province_code,
        any_value(unit_level) as unit_level,
        any_value(portal_department_name) as portal_department_name,
        bool_or(is_parent) as is_parent,
        period,
        any_value(period_grain) as period_grain,
        group_code,
        max(case when is_group_figure then score end) as group_points,
        max(case when is_group_figure then max_score end) as group_max_points,
        -- summed as decimals: a float sum depends on the order the threads add the rows in
        {{ exact_points_sum('case when not is_group_figure then score end') }} as components_points,
        any_value(captured_on) as captured_on,
        bool_or(is_provisional) as is_provisional,
        any_value(source_file) as source_file
    from published
    group by unit_code, period, group_code

)

select
    *,
    count(*) over (partition by unit_code, period) as groups_published,
    case
        when count(group_points) over (partition by unit_code, period) = 6
            then {{ exact_points_sum('group_points', over='partition by unit_code, period') }}
    end as total_points,
    case
        when count(group_points) over (partition by unit_code, period) = 6
            then sum(group_max_points) over (partition by unit_code, period)
    end as total_max_points
from groups
