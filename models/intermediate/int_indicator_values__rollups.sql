-- Reported and task-register figures rolled up the hierarchy by summing numerators and
-- denominators (counts: the counts): commune → district (before 1 July 2025) → province →
-- nation, and agency → province. A unit's figure is its own, when it gave counts, else the sum
-- of its direct children's figures; both are kept (the own figure as `reported`, the sum as
-- `derived`). A rate reported without counts stays on its unit and is not summed: the roll-up
-- says how many child units contributed, how many reported only a rate, and how many were
-- expected (the children existing at the period's end, of the levels that reported).

{%- set parent_levels = ['district', 'province', 'nation'] %}
{#- a figure, as it rolls up; with what the sum of a level's children says of them -#}
{%- set figure = ['unit_level', 'unit_key', 'period', 'period_grain', 'period_start', 'period_end', 'as_of',
                  'indicator_code', 'dimension', 'numerator', 'denominator'] %}
{%- set summed = figure + ['rollup_units_contributing', 'rollup_units_rate_only', 'children_complete',
                           'child_levels'] %}

with

catalogue as (

    select indicator_code
    from {{ ref('indicators') }}
    where rolls_up

),

units as (

    select
        unit_key,
        unit_level,
        parent_unit_key,
        valid_from,
        coalesce(valid_to, {{ end_of_time() }}) as valid_to
    from {{ ref('int_units') }}

),

reported as (

    -- the figures that roll up: reported in submissions, and the task register's
    {%- for source in ['int_indicator_values__submissions', 'int_indicator_values__tasks'] %}
        select
            {{ column_list(figure + ['has_counts']) | indent(12) }}
        from {{ ref(source) }}
        where indicator_code in (select c.indicator_code from catalogue as c)
        {%- if not loop.last %}

            union all
        {% endif %}
    {%- endfor %}

),

own_figures as (

    select
        {{ star_except(none, ['has_counts']) }},
        true as is_complete
    from reported
    where has_counts

),

rate_only as (

    select {{ star_except(none, ['has_counts']) }}
    from reported
    where not has_counts

),

{%- for level in parent_levels %}
    {%- set i = loop.index0 %}

    figures_{{ i }} as (

    -- every unit's figure so far: its own, else one derived at an earlier step
        select * from own_figures
        {%- for j in range(i) %}
            union all
            select
                {{ column_list(figure + ['is_complete'], 'd') | indent(16) }}
            from derived_{{ j }} as d
            anti join own_figures as o
                on d.unit_key = o.unit_key
                    and d.period = o.period
                    and d.indicator_code = o.indicator_code
                    and d.dimension = o.dimension
        {%- endfor %}

    ),

    children_{{ i }} as (

    -- the figures and bare rates of the direct children of {{ level }} units: a bare rate only
    -- where the child has no figure. Each step reads the one before it once (Spark inlines a
    -- CTE at every reference: two references a step made the plan grow fivefold per level)
        select
            parent_unit_key,
            {{ column_list(figure + ['is_complete', 'has_figure']) | indent(12) }}
        from (
            select
                u.parent_unit_key,
                x.*,
                max(x.has_figure) over (
                    partition by x.unit_key, x.period, x.indicator_code, x.dimension
                ) as key_has_figure
            from (
                select
                    *,
                    true as has_figure
                from figures_{{ i }}

                union all

                select
                    {{ column_list(figure[:-2]) | indent(20) }},
                    null as numerator,
                    null as denominator,
                    false as is_complete,
                    false as has_figure
                from rate_only
            ) as x
            inner join units as u on x.unit_key = u.unit_key
            inner join units as parent on u.parent_unit_key = parent.unit_key and parent.unit_level = '{{ level }}'
        ) as keyed
        where has_figure or not key_has_figure

    ),

    summed_{{ i }} as (

        select
            parent_unit_key as unit_key,
            '{{ level }}' as unit_level,
            period,
            period_grain,
            period_start,
            period_end,
            max(as_of) as as_of,
            indicator_code,
            dimension,
            sum(numerator) filter (where has_figure) as numerator,
            sum(denominator) filter (where has_figure) as denominator,
            count(*) filter (where has_figure) as rollup_units_contributing,
            count(*) filter (where not has_figure) as rollup_units_rate_only,
            bool_and(is_complete) filter (where has_figure) as children_complete,
            {{ sorted_set_agg('unit_level') }} as child_levels
        from children_{{ i }}
        group by all
        having count(*) filter (where has_figure) > 0

    ),

    expected_{{ i }} as (

    -- with the children of the levels that reported, existing at the period's end (or the parent's)
        select
            {{ column_list(summed, 's') | indent(12) }},
            count(c.unit_key) as rollup_units_expected
        from summed_{{ i }} as s
        inner join units as parent on s.unit_key = parent.unit_key
        left join units as c
            on s.unit_key = c.parent_unit_key
                and array_contains(s.child_levels, c.unit_level)
                and least(s.period_end, parent.valid_to) between c.valid_from and c.valid_to
        group by
            {{ column_list(summed, 's') | indent(12) }}

    ),

    derived_{{ i }} as (

        select
            {{ star_except(none, ['children_complete']) }},
            children_complete
            and rollup_units_rate_only = 0
            and rollup_units_contributing >= rollup_units_expected as is_complete
        from expected_{{ i }}

    ),
{%- endfor %}

derived as (

    {%- for level in parent_levels %}
        select * from derived_{{ loop.index0 }}{{ ' union all' if not loop.last }}
    {%- endfor %}

)

select
    {{ column_list(figure) | indent(4) }},
    true as has_counts,
    rollup_units_contributing,
    rollup_units_rate_only,
    rollup_units_expected,
    is_complete as rollup_is_complete,
    {{ join_array('child_levels', ',') }} as rollup_child_levels
from derived
