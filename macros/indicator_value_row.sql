{#-
    The indicator-value row, declared once: the columns every indicator model carries, in the
    order the marts publish them (fct_indicator_values, fct_indicator_values_current_units).
    The models that make such rows (int_indicator_values__assessed, __target_attainment,
    __rebased, the current-units mart) select it with `indicator_value_row`.
-#}
{% macro indicator_value_columns() -%}
    {{ return([
        'unit_key', 'unit_code', 'unit_valid_from', 'unit_level',
        'period', 'period_grain', 'period_start', 'period_end',
        'period_year', 'previous_period', 'same_period_previous_year',
        'as_of', 'indicator_code', 'indicator_unit', 'direction', 'dimension',
        'numerator', 'denominator', 'value', 'reported_value', 'has_counts',
        'target', 'target_source', 'attainment', 'source', 'is_headline',
        'rollup_units_contributing', 'rollup_units_rate_only', 'rollup_units_expected',
        'rollup_is_complete', 'rollup_child_levels',
        'published_rank', 'published_ranked_of',
        'source_file', 'source_load_id', 'source_row_number',
    ]) }}
{%- endmacro %}


{#- The row's select list: each column by name, or `expression as column` where `computed`
    gives one; the columns in `omit` left out; the list ends at `through` when given. -#}
{% macro indicator_value_row(computed={}, omit=[], through=none) -%}
    {%- set all_names = indicator_value_columns() -%}
    {%- set last = all_names.index(through) if through else all_names | length - 1 -%}
    {%- set names = all_names[:last + 1] | reject('in', omit) | list -%}
    {%- for name in names -%}
        {{ computed[name] ~ ' as ' ~ name if name in computed else name }}{{ ',\n' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- A list of columns, each prefixed with a table alias when one is given. -#}
{% macro column_list(columns, alias=none) -%}
    {%- for name in columns -%}
        {{ alias ~ '.' if alias }}{{ name }}{{ ',\n' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
