{% macro rate_change(current, previous, unit) -%}
    {#- rounded to 1e-9 so that 0.5 - 0.4 shows as 10 points, not 9.999999999999998 -#}
    round(case when {{ unit }} = 'rate' then ({{ current }} - {{ previous }}) * 100 else {{ current }} - {{ previous }} end, 9)
{%- endmacro %}

{% macro end_of_time() -%}
    date '9999-12-31'
{%- endmacro %}

{% macro indicator_value(unit, numerator, denominator) -%}
    {#- a rate is numerator / denominator (null when nothing was counted); a count is its numerator -#}
    case
        when {{ unit }} = 'rate' then {{ numerator }} / nullif({{ denominator }}, 0)
        when {{ unit }} = 'count' then {{ numerator }}
    end
{%- endmacro %}

{% macro attainment(value, target, direction) -%}
    {#- direction-aware: for a lower-is-better indicator a value below the target exceeds it -#}
    case
        when {{ target }} is null then 'no_target'
        when {{ value }} is null then null
        when round({{ value }}, 6) = round({{ target }}, 6) then 'met'
        when ({{ direction }} = 'higher' and {{ value }} > {{ target }})
            or ({{ direction }} = 'lower' and {{ value }} < {{ target }}) then 'exceeded'
        else 'not_met'
    end
{%- endmacro %}

{% macro headline_rank(unit_key='unit_key') -%}
    {#- 1 for the headline value of a unit, period, indicator and dimension: computed, else
        reported, else derived -#}
    row_number() over (
        partition by {{ unit_key }}, period, indicator_code, dimension
        order by case source when 'computed' then 1 when 'reported' then 2 else 3 end
    )
{%- endmacro %}

{% macro change_and_rank(values) -%}
{#-
    The final select of the indicator marts: every row of the CTE `values` with its change
    against the previous period and the same period a year earlier (same unit, indicator,
    dimension and source), and its competition rank (ties share a rank) among the headline
    values of the same level, period, indicator and dimension whose `is_rankable` is true.
    Only the periods this run computes (incremental by period): their change columns read the
    other periods' values from `values`, which holds every period.
-#}
ranked as (

    select
        unit_key,
        period,
        indicator_code,
        dimension,
        source,
        -- a bigint on both engines (Spark's rank() is an int)
        cast(rank() over (
            partition by unit_level, period, indicator_code, dimension
            order by case when direction = 'lower' then value else -value end
        ) as bigint) as value_rank,
        count(*) over (partition by unit_level, period, indicator_code, dimension) as ranked_of
    from {{ values }}
    where is_headline
        and value is not null
        and unit_level <> 'nation'
        and is_rankable

)

select
    {{ star_except('v', ['indicator_unit', 'direction', 'previous_period', 'same_period_previous_year', 'is_rankable']) }},
    {{ rate_change('v.value', 'prev.value', 'v.indicator_unit') }} as change_vs_previous_period,
    {{ rate_change('v.value', 'last_year.value', 'v.indicator_unit') }} as change_vs_previous_year,
    r.value_rank as rank,
    r.ranked_of
from {{ values }} as v
left join {{ values }} as prev
    on v.unit_key = prev.unit_key
        and v.indicator_code = prev.indicator_code
        and v.dimension = prev.dimension
        and v.source = prev.source
        and v.previous_period = prev.period
left join {{ values }} as last_year
    on v.unit_key = last_year.unit_key
        and v.indicator_code = last_year.indicator_code
        and v.dimension = last_year.dimension
        and v.source = last_year.source
        and v.same_period_previous_year = last_year.period
left join ranked as r
    on v.unit_key = r.unit_key
        and v.period = r.period
        and v.indicator_code = r.indicator_code
        and v.dimension = r.dimension
        and v.source = r.source
where {{ in_periods_to_refresh('v.period') }}
{%- endmacro %}

{% macro join_seed_targets(unit_code, unit_level, year, indicator_code) -%}
{#-
    The targets seed's rows for a value: `unit_target` (the unit's own row) and `level_target`
    (the row for every unit of its level, empty unit_code). Use with `seed_target()` and
    `seed_target_source()`: a unit's own row wins.
-#}
left join {{ ref('indicator_targets') }} as unit_target
    on {{ unit_code }} = unit_target.unit_code
        and {{ unit_level }} = unit_target.unit_level
        and {{ year }} = unit_target.year
        and {{ indicator_code }} = unit_target.indicator_code
left join {{ ref('indicator_targets') }} as level_target
    on level_target.unit_code is null
        and {{ unit_level }} = level_target.unit_level
        and {{ year }} = level_target.year
        and {{ indicator_code }} = level_target.indicator_code
{%- endmacro %}

{% macro seed_target() -%}
    coalesce(unit_target.target, level_target.target)
{%- endmacro %}

{% macro seed_target_source() -%}
    case
        when unit_target.target is not null then 'targets_seed_unit'
        when level_target.target is not null then 'targets_seed_level'
    end
{%- endmacro %}

{% macro unit_grouping_sets(columns) -%}
{#-
    `grouping sets` over the unit keys of a dossier: `columns` alone (the nation) and with each
    level's key (province, district, commune, agency). Pair with `grouped_unit_level_and_key()`
    in the select list, and keep only `unit_level = 'nation' or unit_key is not null` (a level
    a dossier has no key for yields a null group).
-#}
{%- set by = columns | join(', ') -%}
grouping sets (
    ({{ by }}),
    {%- for level in ['province', 'district', 'commune', 'agency'] %}
    ({{ by }}, {{ level }}_unit_key){{ ',' if not loop.last }}
    {%- endfor %}
)
{%- endmacro %}

{% macro grouped_unit_level_and_key() -%}
{#-
    In a `group by grouping sets` over the unit keys of a dossier (nation, province, district,
    commune, agency), the level and the key of each group: the most detailed key grouped on.
-#}
{%- set levels = ['commune', 'district', 'agency', 'province'] -%}
case
    {%- for level in levels %}
    when grouping({{ level }}_unit_key) = 0 then '{{ level }}'
    {%- endfor %}
    else 'nation'
end as unit_level,
case
    {%- for level in levels %}
    when grouping({{ level }}_unit_key) = 0 then {{ level }}_unit_key
    {%- endfor %}
    else 'VN@{{ var("history_start") }}'
end as unit_key
{%- endmacro %}

{% macro exact_points_sum(points, over=none) -%}
{#-
    Sum of Decision 766 points, exact and the same in every build: summed as decimals, because a
    float sum depends on the order DuckDB's threads add the rows in, and ranks on ties with it.
-#}
cast(sum(cast({{ points }} as decimal(18, 9))){% if over %} over ({{ over }}){% endif %} as double)
{%- endmacro %}

{% macro exact_points_difference(a, b) -%}
{#-
    a - b for Decision 766 points, as decimals: 5.59 - 5.82 is -0.23, not -0.2300000000000004.
-#}
cast(cast({{ a }} as decimal(18, 9)) - cast({{ b }} as decimal(18, 9)) as double)
{%- endmacro %}
