{#- The incremental strategy of a model on the current engine. DuckDB runs the project's own
    strategies (delete the months, periods or dossiers a run recomputes, then insert:
    macros/incremental_dossiers.sql, macros/incremental_periods.sql). dbt-spark accepts only its
    own strategies; there the incremental models are built in full on every run
    (`full_refresh`, dbt_project.yml), so the strategy named is never applied. -#}
{% macro engine_strategy(strategy) -%}
    {{ return('insert_overwrite' if target.type == 'spark' else strategy) }}
{%- endmacro %}
