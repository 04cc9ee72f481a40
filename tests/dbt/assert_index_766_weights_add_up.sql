-- Every weights version of the 766 index: its components add up to their group's points, its
-- groups to 100, all its rows share one validity, and no two versions are in force on the same
-- day. Returns the versions (and groups) that break a rule.

with

components as (

    select * from {{ ref('index_766_components') }}

),

groups as (

    select
        weights_version,
        group_code,
        any_value(group_max_points) as group_max_points,
        count(distinct group_max_points) as n_group_maxima,
        sum(max_points) as component_points
    from components
    group by weights_version, group_code

),

versions as (

    select
        weights_version,
        min(valid_from) as valid_from,
        max(coalesce(valid_to, {{ end_of_time() }})) as valid_to,
        count(distinct valid_from) + count(distinct coalesce(valid_to, {{ end_of_time() }})) - 1
            as n_validities
    from components
    group by weights_version

),

problems as (

    select
        weights_version,
        group_code,
        'components add up to ' || component_points || ', not ' || group_max_points as problem
    from groups
    where n_group_maxima > 1 or abs(component_points - group_max_points) > 1e-9

    union all

    select
        weights_version,
        null as group_code,
        'groups add up to ' || sum(group_max_points) || ', not 100' as problem
    from groups
    group by weights_version
    having abs(sum(group_max_points) - 100) > 1e-9

    union all

    select
        weights_version,
        null as group_code,
        'rows of the version carry different validities' as problem
    from versions
    where n_validities > 1

    union all

    select
        a.weights_version,
        null as group_code,
        'in force together with ' || b.weights_version as problem
    from versions as a
    inner join versions as b
        on a.weights_version < b.weights_version
            and a.valid_from <= b.valid_to
            and a.valid_to >= b.valid_from

)

select * from problems
