{% macro rate_change(current, previous, unit) -%}
    case when {{ unit }} = 'rate' then ({{ current }} - {{ previous }}) * 100 else {{ current }} - {{ previous }} end
{%- endmacro %}

{% macro end_of_time() -%}
    date '9999-12-31'
{%- endmacro %}
