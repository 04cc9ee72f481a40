{#- A query the current node asks several times in its run, run once.

    The incremental models find what to recompute with queries (the periods or months to
    replace, the watermark): when the model's SQL is compiled, again when its strategy is
    rendered, and again in its post-hook. Their answer cannot change within the node's run
    (what they read is written only after the last of them), and on Spark each costs a round of
    planning and jobs: 56 s of the Spark test's incremental build were these repeats.

    The answers live for one dbt invocation, keyed by the node and the SQL text, in `graph`:
    the one object dbt hands, unchanged, to every rendering of every node of the invocation
    (the manifest's flat graph, built when the run starts). -#}
{% macro run_query_once(sql) -%}
    {%- set memo = graph.setdefault('de06_run_query_once', {}) -%}
    {%- set key = invocation_id ~ ' ' ~ model.unique_id ~ ' ' ~ sql -%}
    {%- if key not in memo -%}
        {%- do memo.update({key: run_query(sql)}) -%}
    {%- endif -%}
    {{ return(memo[key]) }}
{%- endmacro %}
