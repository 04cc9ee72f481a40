{#- The raw layer where the target reads it. On DuckDB `de06 ingest` writes schema `raw` of the
    warehouse database itself: nothing to do. On Spark the ingest exports each raw table as
    Parquet files under DE06_SPARK_RAW_DIR/<table>/ (orchestration/de06/lake.py); this
    registers them as external tables `raw.<table>` at the start of every dbt invocation, so
    the sources (models/staging/_staging__sources.yml) name the same tables on both engines.
    Dropping an external table leaves its files alone. -#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources', 'de06')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
    select 1
{%- endmacro %}

{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {%- set raw_dir = env_var('DE06_SPARK_RAW_DIR') -%}
        {%- do run_query('create database if not exists raw') -%}
        {#- the tables the sources name in schema raw (models/staging/_staging__sources.yml) -#}
        {%- set tables = graph.sources.values() | selectattr('schema', 'equalto', 'raw') | map(attribute='identifier') | unique | sort -%}
        {%- for table in tables -%}
            {%- do run_query('drop table if exists raw.' ~ table) -%}
            {%- do run_query(
                'create table raw.' ~ table ~ " using parquet location '"
                ~ raw_dir ~ '/' ~ table ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
