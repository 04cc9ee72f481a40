{#- dbt.safe_cast is a plain cast on DuckDB; we rely on it returning null for bad input. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
