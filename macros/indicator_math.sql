{% macro rate_change(current, previous, unit) -%}
    {#- rounded to 1e-9 so that 0.5 - 0.4 shows as 10 points, not 9.999999999999998 -#}
    round(case when {{ unit }} = 'rate' then ({{ current }} - {{ previous }}) * 100 else {{ current }} - {{ previous }} end, 9)
{%- endmacro %}

{% macro end_of_time() -%}
    date '9999-12-31'
{%- endmacro %}
