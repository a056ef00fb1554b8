#!/usr/bin/env python3
"""Writes Tests/ChatTemplatesTests/Fixtures/cases.json: what transformers renders for each chat
template in Fixtures/templates/ (real models' templates, see SOURCES.md there) and for the edge-case
templates below, over several conversations, or the error it raises.

Rendering goes through transformers' own code (`_normalize_chat_messages` then
`render_jinja_template`, i.e. its sandboxed Jinja2 environment with trim_blocks, lstrip_blocks,
loopcontrols, its tojson, raise_exception, strftime_now, namespace and dict), so the expected strings
are exactly what `apply_chat_template(messages, add_generation_prompt=...)` gives, with the
tokenizer's bos_token/eos_token passed as template variables. `strftime_now` sees a fixed clock.

Run in the repository's venv:  Scripts/setup-venv && .venv/bin/python Scripts/make-chat-template-fixtures.py
"""
import datetime as _datetime
import json
import os
import sys

import jinja2
import transformers
from transformers.utils import chat_template_utils as ctu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "ChatTemplatesTests", "Fixtures")

# strftime_now's clock in the fixtures (naive local time, as datetime.now() gives); the Swift
# tests pass the same wall-clock time in their local time zone.
FIXED_NOW = _datetime.datetime(2025, 3, 7, 9, 5, 3)


class _FixedDatetime(_datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_NOW


ctu.datetime = _FixedDatetime


def render(template, messages, add_generation_prompt, tools=None, documents=None, **variables):
    """What apply_chat_template(tokenize=False) returns, or the error it raises."""
    try:
        chat = ctu._normalize_chat_messages(messages)
        rendered, _ = ctu.render_jinja_template(
            conversations=[chat], tools=tools, documents=documents, chat_template=template,
            add_generation_prompt=add_generation_prompt, **variables)
        return {"expected": rendered[0]}
    except jinja2.exceptions.TemplateSyntaxError as error:
        return {"error": {"kind": "syntax", "message": str(error)}}
    except jinja2.exceptions.TemplateError as error:
        # raise_exception raises a plain TemplateError; everything else Jinja raises is a subclass.
        kind = "raised" if type(error) is jinja2.exceptions.TemplateError else "runtime"
        return {"error": {"kind": kind, "message": str(error)}}
    except Exception as error:  # TypeError, ValueError, ... from Python operations inside the template
        return {"error": {"kind": "runtime", "message": f"{type(error).__name__}: {error}"}}


TRICKY = (
    "Braces {{ not a tag }} and {% if %} and {# no comment #}; quotes ' \" and \\backslash\\; "
    "unicode é 中文 🙂 e\u0301 \u2028; tabs\tand\r\nnewlines\n"
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Oslo"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}

CONVERSATIONS = {
    "single-user": [{"role": "user", "content": "Hello!"}],
    "system-multi-turn": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ],
    "ends-with-assistant": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello, how can I help?"},
        {"role": "user", "content": "Tell me a joke."},
        {"role": "assistant", "content": "Why did the chicken cross the road?"},
    ],
    "tricky-content": [
        {"role": "system", "content": "  padded system  \n"},
        {"role": "user", "content": TRICKY},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "   "},
    ],
    "system-only": [{"role": "system", "content": "Only a system prompt."}],
    "roles-not-alternating": [
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
    ],
    "assistant-first": [
        {"role": "assistant", "content": "I speak first."},
        {"role": "user", "content": "Fine."},
    ],
    "null-keys-and-extra-fields": [
        {"role": "user", "content": "Hello", "name": None, "weight": 1.5},
        {"role": "assistant", "content": "Hi!", "tool_calls": None},
        {"role": "user", "content": "Bye"},
    ],
    "think-tags-in-content": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "<think>\nHmm.\n</think>\n\nHello!"},
        {"role": "user", "content": "<tool_response>x</tool_response>"},
    ],
    "reasoning": [
        {"role": "user", "content": "Think first."},
        {"role": "assistant", "content": "Done.", "reasoning_content": "I thought."},
        {"role": "user", "content": "Again."},
    ],
}

TOOL_CONVERSATIONS = {
    "tool-call-round-trip": [
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call12345", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}}]},
        {"role": "tool", "tool_call_id": "call12345", "content": "{\"temperature\": 3}"},
        {"role": "assistant", "content": "It is 3 °C in Oslo."},
        {"role": "user", "content": "Thanks! And in Bergen?"},
    ],
    "tools-offered": [
        {"role": "user", "content": "What's the weather like in Paris?"},
    ],
}

# bos/eos as the models' tokenizer configs name them (None: the tokenizer has none, left undefined).
SPECIAL_TOKENS = {
    "llama-2-chat": ("<s>", "</s>"),
    "llama-3-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama-3.1-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama-3.2-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "mistral-7b-instruct-v0.1": ("<s>", "</s>"),
    "mistral-7b-instruct-v0.2": ("<s>", "</s>"),
    "mistral-7b-instruct-v0.3": ("<s>", "</s>"),
    "qwen2-instruct": (None, "<|im_end|>"),
    "qwen2.5-instruct": (None, "<|im_end|>"),
    "qwen3": (None, "<|im_end|>"),
    "zephyr-tinyllama-chat": ("<s>", "</s>"),
}

# Hand-written templates for the corners of Jinja the real ones touch lightly or not at all.
# Each renders over one context; `context` keys other than messages/add_generation_prompt are
# template variables.
EDGE = {
    "whitespace-control": "a  {{- ' b ' -}}  c\n  {%- if true %} d {% endif -%}\n  e {#- note -#}   f\n{{ 'g' }}  \n",
    "trim-and-lstrip-blocks": "x\n    {% if true %}\n    y\n    {% endif %}\n  {# comment #}\n\tz {% if true %}w{% endif %}\n{%+ if true %}plus{% endif %}\n{% if true +%}\nkept\n{% endif %}",
    "trailing-newline-and-crlf": "line1\r\nline2\rline3\n{% if true %}\r\nin\r\n{% endif %}\n",
    "raw-block": "{% raw %}{{ not rendered }} {% if %}{% endraw %}\n  {%- raw -%}   {{ x }}   {%- endraw %}|",
    "comment-with-tags": "a{# {{ x }} {% if %} #}b\n{# multi\nline #}\nc",
    "print-values": "{{ none }}|{{ true }}|{{ false }}|{{ 0 }}|{{ -7 }}|{{ 1.0 }}|{{ 1.5e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ 1/3 }}|{{ 2 ** 40 // 2 ** 38 }}|{{ [1, 'a', none, true, 2.5, [\"x\"]] }}|{{ {'k': 'v', 'n': 1} }}|{{ \"it's\" }}|{{ [\"it's\", 'say \"hi\"', 'tab\\there'] }}|{{ undefined_thing }}|",
    "arithmetic": "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1 + 2.5 }} {{ true + 1 }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ 3 - 5 }} {{ -(3) }} {{ 7.5 // 2 }}",
    "concat-and-plus": "{{ 'a' ~ 1 ~ none ~ true ~ missing ~ [1] }}|{{ 'x' + 'y' }}|{{ [1, 2] + [3] }}|{{ ('a' ~ 'b') | upper }}",
    "logic-returns-operands": "{{ 0 or 'fallback' }}|{{ 'first' or 'second' }}|{{ '' and 'never' }}|{{ 'yes' and 'both' }}|{{ none or none }}|{{ not '' }}|{{ not [1] }}|{{ 'v' if false }}|{{ 'a' if 1 else 'b' }}|{{ 1 if 0 else 2 if 0 else 3 }}",
    "comparisons": "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 'a' != 'a' }} {{ none == none }} {{ missing == missing }} {{ missing == none }} {{ 2 >= 2 }} {{ 'é' > 'z' }}",
    "in-operator": "{{ 'b' in 'abc' }} {{ '' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'v' in {'k': 'v'} }} {{ 3 not in [1] }} {{ 'x' in missing }}",
    "indexing-and-slicing": "{% set s = 'héllo🙂!' %}{% set l = [0, 1, 2, 3, 4, 5] %}{{ s[0] }}|{{ s[-1] }}|{{ s[1:3] }}|{{ s[::-1] }}|{{ s[:-1] }}|{{ l[1:] }}|{{ l[::2] }}|{{ l[-2:] }}|{{ l[4:1:-1] }}|{{ l[10:] }}|{{ l[-100:2] }}|{{ l[10] }}|{{ l[-1] }}|{{ s | length }}|{{ {'a': {'b': [7, 8]}}['a']['b'][1] }}|{{ {'a': 1}.a }}|{{ l.0 }}",
    "attribute-vs-item": "{% set d = {'items': 'key', 'title': 'T', 'x': 1} %}{{ d['items'] }}|{{ d.x }}|{{ d.missing is defined }}|{{ d['missing'] is defined }}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{{ d.get('x') }}|{{ d.get('nope') }}|{{ d.get('nope', 'dflt') }}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ none.attr is defined }}|{{ 'str'.attr is defined }}",
    "loop-variables": "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem is defined and loop.previtem }}{{ loop.nextitem | default('-') }}{{ loop.cycle('odd', 'even') }}{{ loop.depth }};{% endfor %}",
    "loop-filter-else-controls": "{% for x in range(10) if x is odd %}{% if x > 7 %}{% break %}{% endif %}{% if x == 3 %}{% continue %}{% endif %}{{ x }}/{{ loop.index }}/{{ loop.length }} {% endfor %}|{% for x in [] %}never{% else %}empty{% endfor %}|{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}|{% for c in 'hé' %}[{{ c }}]{% endfor %}|{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}|{% for x in missing %}no{% else %}missing-is-empty{% endfor %}",
    "scoping": "{% set x = 'outer' %}{% for i in [1, 2] %}{{ x }}{% set x = 'inner' ~ i %}{{ x }} {% endfor %}{{ x }}|{% if true %}{% set y = 'if-sets' %}{% endif %}{{ y }}|{% set ns = namespace(count=0, found=false) %}{% for i in [1, 2, 3] %}{% set ns.count = ns.count + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }}|{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set t = (1, 'two') %}{{ t[1] }}",
    "set-block": "{% set block %}\n  inside {{ 1 + 1 }}\n{% endset %}[{{ block }}]{{ block | length }}",
    "macros": "{% macro greet(name, punct='!', twice=false) %}Hello {{ name }}{{ punct }}{% if twice %} Again{{ punct }}{% endif %}{% endmacro %}{{ greet('Ann') }}|{{ greet('Bob', '?') }}|{{ greet('Cy', twice=true) }}|{{ greet() }}|{% macro render(items) %}{% for i in items %}<{{ i }}>{% endfor %}{% endmacro %}{{ render(['a', 'b']) | upper }}",
    "filters-strings": "{{ '  x y  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'MiXed' | upper }}{{ 'MiXed' | lower }}|{{ 'hello WORLD' | capitalize }}|{{ 'hello wORLD-foo (bar) o\\'neil' | title }}|{{ 'a-b-a' | replace('a', 'z') }}|{{ 'a-b-a' | replace('a', 'z', 1) }}|{{ 'ab' | replace('', '.') }}|{{ 42 | string }}{{ none | string }}|{{ '12' | int + 1 }}|{{ '3.9' | int }}|{{ 'x' | int }}|{{ 'x' | int(7) }}|{{ 2.7 | int }}|{{ '1.5' | float }}|{{ 3 | float }}|{{ 'abc' | reverse }}|{{ 'one two  three' | wordcount }}|{{ 'ab' | center(7) }}|[{{ 'abc' | center(8) }}]|{{ -3 | abs }}|{{ 2.5 | round }}|{{ 2.567 | round(2) }}|{{ 2.1 | round(method='ceil') }}|{{ 'x' | length }}|{{ missing | length }}",
    "filters-sequences": "{% set people = [{'name': 'b', 'age': 3, 'tags': ['x']}, {'name': 'a', 'age': 1}, {'name': 'c', 'age': 2, 'admin': true}] %}{{ people | map(attribute='name') | join(', ') }}|{{ people | selectattr('admin') | map(attribute='name') | list }}|{{ people | rejectattr('admin') | map(attribute='name') | join }}|{{ people | selectattr('age', 'gt', 1) | map(attribute='name') | join }}|{{ people | selectattr('name', 'equalto', 'a') | list | length }}|{{ people | map(attribute='tags.0', default='none') | list }}|{{ [3, 1, 2] | sort }}|{{ people | sort(attribute='age', reverse=true) | map(attribute='name') | join }}|{{ ['B', 'a', 'C'] | sort }}|{{ ['B', 'a', 'C'] | sort(case_sensitive=true) }}|{{ [1, 2, 1, 3] | unique | list }}|{{ ['A', 'a', 'b'] | unique | list }}|{{ [1, 2, 3] | sum }}|{{ people | sum(attribute='age') }}|{{ [4, 2, 8] | min }}{{ [4, 2, 8] | max }}|{{ people | max(attribute='age') }}|{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}|{{ 'abc' | first }}|{{ [] | first is defined }}|{{ 'abc' | list }}|{{ {'k': 1, 'j': 2} | list }}|{{ {'k': 1, 'j': 2} | items | list }}|{{ [1, 0, 2, none] | select | list }}|{{ [1, 2, 3, 4] | reject('odd') | list }}|{{ ['a', 'b'] | map('upper') | join('-') }}|{{ [1, 2] | join(0) }}|{{ [[1, 2]] | join }}|{{ [3, 1] | reverse | list }}|{{ missing | list }}|{{ missing | join(',') }}",
    "filter-default-and-tests": "{{ missing | default('d') }}|{{ none | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ 0 | d('zero', boolean=true) }}|{{ missing | default }}|{{ x is defined }}{{ missing is undefined }}{{ none is none }}{{ 1 is none }}|{{ 's' is string }}{{ 1 is string }}|{{ {} is mapping }}{{ [] is mapping }}|{{ [] is iterable }}{{ 's' is iterable }}{{ 1 is iterable }}{{ missing is iterable }}|{{ [] is sequence }}{{ {} is sequence }}{{ 1 is sequence }}|{{ 1 is number }}{{ 1.5 is number }}{{ true is number }}{{ 's' is number }}|{{ 1 is integer }}{{ true is integer }}{{ 1.0 is float }}|{{ true is boolean }}{{ 1 is boolean }}|{{ true is true }}{{ 1 is true }}{{ false is false }}|{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}|{{ 'a' is equalto 'a' }}{{ 2 is eq 3 }}{{ 2 is ne 3 }}{{ 2 is lt 3 }}{{ 2 is gt 3 }}{{ 2 is le 2 }}{{ 2 is ge 3 }}{{ 2 is in [1, 2] }}|{{ 'ab' is lower }}{{ 'AB' is upper }}|{{ none is sameas none }}{{ false is sameas false }}{{ 0 is sameas false }}|{{ x is not defined }}{{ raise_exception is callable }}{{ 1 is callable }}{{ 'x'.strip is callable }}",
    "tojson-variants": "{% set v = {'name': 'Zoë \"q\" \\\\ 🙂', 'list': [1, 2.5, true, none, 'a\\nb\\u0001'], 'nested': {'empty': {}, 'none': [], 'z': 0, 'a': -1e-07}} %}{{ v | tojson }}\n{{ v | tojson(indent=2) }}\n{{ v | tojson(sort_keys=true) }}\n{{ v | tojson(separators=(',', ':')) }}\n{{ v | tojson(indent='\\t', sort_keys=true) }}\n{{ v | tojson(ensure_ascii=true) }}\n{{ 'plain' | tojson }}{{ 5 | tojson }}{{ none | tojson }}{{ [] | tojson(indent=4) }}{{ 1e16 | tojson }}",
    "string-methods": "{% set s = '  Hello, World  ' %}[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ 'xxaxx'.strip('x') }}]{{ s.strip().startswith('Hello') }}{{ s.strip().endswith(('x', 'World')) }}{{ 'abc'.startswith('b') }}|{{ 'a,b,,c'.split(',') }}{{ ' a  b c '.split() }}{{ 'a,b,c'.split(',', 1) }}{{ 'a,b,c'.rsplit(',', 1) }}{{ 'l1\\nl2\\r\\nl3'.splitlines() }}|{{ 'hello world'.title() }}{{ \"they're bill's\".title() }}{{ 'hELLO'.capitalize() }}{{ 'AbC'.upper() }}{{ 'AbC'.lower() }}|{{ 'banana'.replace('a', 'o') }}{{ 'banana'.replace('a', 'o', 2) }}{{ 'banana'.find('n') }}{{ 'banana'.rfind('n') }}{{ 'banana'.find('z') }}{{ 'banana'.count('a') }}{{ 'banana'.index('n') }}|{{ '-'.join(['a', 'b']) }}{{ 'prefix-x'.removeprefix('prefix-') }}{{ '123'.isdigit() }}{{ ' \\t'.isspace() }}{{ 'abc'.isalpha() }}{{ 'a1'.isalnum() }}{{ 'ab'.islower() }}{{ 'AB'.isupper() }}",
    "rounding-and-tuples": "{{ 2.675 | round(2) }} {{ -0.5 | round }} {{ 0.125 | round(2) }} {{ 3.5 | round }} {{ 7 | round }} {{ 2.5 | round(method='floor') }}|{{ (1,) }}{{ () }}{{ (1, 'a') }}{{ (1, 2) == [1, 2] }}{{ (1, 2) == (1, 2) }}{{ {'a': 1}.items() | list }}{{ (1, 2) + (3,) }}{{ (3, 4)[1] }}{{ (1, 2, 3)[1:] }}{{ 2 in (1, 2) }}{{ ('x', 'y') | join('+') }}{{ 'ab'.startswith(('x', 'a')) }}",
    "lstrip-edge-cases": "  {# indented comment #}\nA  {% if true %}B{% endif %}\n\t {%- if true %}C{% endif %}\n {{ 'D' }} {% if true %}E{% endif %}\n{% for i in [1, 2] %}\n  item{{ i }}\n{% endfor %}\n  {%+ if true %}F{% endif %}\n  {% if true -%}\n   G\n  {%- endif %}\nH",
    "strftime-now": "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%A %B %-d, %y %I%p %j %%') }}|{{ strftime_now is defined }}",
    "generation-tag": "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}!{% endgeneration %}{% else %}{{ m.content }}?{% endif %}{% endfor %}",
    "globals-and-context": "{{ tools is none }}{{ documents is none }}{{ tools is defined }}|{{ bos_token }}{{ eos_token }}|{{ add_generation_prompt }}|{{ messages | length }}|{{ dict(a=1, b='x') }}|{{ range(3) | list }}{{ range(1, 7, 2) | list }}|{{ extra_flag }}|{{ messages[0].keys() | list }}",
    "nested-data": "{% for m in messages %}{{ m.role }}:{% if m.content is string %}{{ m.content }}{% else %}{% for part in m.content %}[{{ part.type }}:{{ part.text | default('-') }}]{% endfor %}{% endif %};{% endfor %}",
    "raise-in-macro": "{% macro check(m) %}{% if m.role not in ['user', 'assistant'] %}{{ raise_exception('Unsupported role: ' ~ m.role) }}{% endif %}ok{% endmacro %}{% for m in messages %}{{ check(m) }}{% endfor %}",
    "error-undefined-attribute": "{{ missing.attribute }}",
    "error-add-string-and-int": "{{ 'a' + 1 }}",
    "error-add-undefined": "{{ missing + 1 }}",
    "error-tojson-undefined": "{{ missing | tojson }}",
    "error-iterate-int": "{% for x in 5 %}{% endfor %}",
    "error-compare-types": "{{ 1 < 'a' }}",
    "error-list-append": "{% set l = [] %}{{ l.append(1) }}",
    "error-namespace-underscore": "{% set ns = namespace() %}{% set ns._x = 1 %}",
    "error-syntax-unclosed": "{% if true %}open",
    "error-syntax-bad-expression": "{{ 1 + }}",
    "error-unknown-tag": "{% frobnicate %}",
}

EDGE_CONTEXT_MESSAGES = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello"},
    {"role": "user", "content": [{"type": "text", "text": "parts"}, {"type": "image"}]},
    {"role": "tool", "content": "ignored"},
]


def main():
    templates_dir = os.path.join(FIXTURES, "templates")
    cases = []
    for file_name in sorted(os.listdir(templates_dir)):
        if not file_name.endswith(".jinja"):
            continue
        name = file_name[: -len(".jinja")]
        with open(os.path.join(templates_dir, file_name), encoding="utf-8", newline="") as f:
            template = f.read()
        bos, eos = SPECIAL_TOKENS[name]
        variables = {}
        if bos is not None:
            variables["bos_token"] = bos
        if eos is not None:
            variables["eos_token"] = eos
        conversations = [(k, v, None) for k, v in CONVERSATIONS.items()]
        conversations += [(k, v, [WEATHER_TOOL]) for k, v in TOOL_CONVERSATIONS.items()]
        for conversation_name, messages, tools in conversations:
            for add_generation_prompt in (True, False):
                case = {
                    "name": f"{name} / {conversation_name} / add_generation_prompt={add_generation_prompt}",
                    "template": f"templates/{file_name}",
                    "messages": messages,
                    "add_generation_prompt": add_generation_prompt,
                    "tools": tools,
                    "variables": variables,
                }
                case.update(render(template, messages, add_generation_prompt, tools=tools, **variables))
                cases.append(case)
        # Qwen3 answers without thinking when the caller passes enable_thinking=False.
        if name == "qwen3":
            extra = dict(variables, enable_thinking=False)
            messages = CONVERSATIONS["system-multi-turn"]
            case = {
                "name": f"{name} / enable_thinking=False", "template": f"templates/{file_name}",
                "messages": messages, "add_generation_prompt": True, "tools": None, "variables": extra,
            }
            case.update(render(template, messages, True, **extra))
            cases.append(case)
        # Llama 3.1/3.2 read `date_string` and tool placement from the caller when given.
        if name.startswith("llama-3."):
            extra = dict(variables, date_string="01 Jan 2030", tools_in_user_message=False)
            messages = TOOL_CONVERSATIONS["tools-offered"]
            case = {
                "name": f"{name} / tools in system message, date_string given",
                "template": f"templates/{file_name}", "messages": messages,
                "add_generation_prompt": True, "tools": [WEATHER_TOOL], "variables": extra,
            }
            case.update(render(template, messages, True, tools=[WEATHER_TOOL], **extra))
            cases.append(case)
    for name, template in EDGE.items():
        variables = {"bos_token": "<s>", "eos_token": "</s>", "extra_flag": "flag", "x": 1}
        case = {
            "name": f"edge / {name}",
            "source": template,
            "messages": EDGE_CONTEXT_MESSAGES,
            "add_generation_prompt": True,
            "tools": None,
            "variables": variables,
        }
        case.update(render(template, EDGE_CONTEXT_MESSAGES, True, **variables))
        cases.append(case)
    out = {
        "generator": "Scripts/make-chat-template-fixtures.py",
        "transformers": transformers.__version__,
        "jinja2": jinja2.__version__,
        "now": FIXED_NOW.isoformat(),
        "cases": cases,
    }
    path = os.path.join(FIXTURES, "cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum(1 for c in cases if "error" in c)
    print(f"wrote {len(cases)} cases ({errors} expected errors) to {os.path.relpath(path, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
