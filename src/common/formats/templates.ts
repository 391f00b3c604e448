/**
 * Fallback chat templates, used only when a model's tokenizer ships no chat template of its
 * own. They are the contract of the reference models, reproduced exactly (Jinja, rendered by
 * the tokenizer's own template engine), not lingoguard's invention:
 *
 * - Llama Guard 3: the `chat_template` of meta-llama/Llama-Guard-3-1B's tokenizer_config.json
 *   (also in onnx-community/Llama-Guard-3-1B). Note its quirks, kept on purpose: "according our
 *   safety policy", a space before `<|eot_id|>`, no newline after the assistant header, message
 *   content as typed parts (`{type: 'text', text}`) and trimmed.
 * - Qwen3Guard-Gen: the `chat_template` shipped with Qwen/Qwen3Guard-Gen-{0.6B,4B,8B}: one
 *   prompt for prompt moderation (with `Jailbreak`), another for response moderation (without
 *   it, plus the refusal policy), both ending with an empty `<think>\n\n</think>\n\n`.
 *
 * Checked against copies of the published templates and of their rendered prompts in public
 * repositories; the tests render them and compare with golden strings typed from the contract.
 */

/** Llama Guard 3 (1B) chat template: S1..S13, prompt or response moderation. */
export const LLAMA_GUARD_3_CHAT_TEMPLATE: string = String.raw`{%- if messages|length % 2 == 0 -%}
    {%- set role = 'Agent' -%}
{%-  else -%}
    {%-  set role = 'User' -%}
{%-  endif -%}
{%-  if categories is not defined -%}
    {%-  
        set categories = ({
            "S1": "Violent Crimes.",
            "S2": "Non-Violent Crimes.",
            "S3": "Sex Crimes.",
            "S4": "Child Exploitation.",
            "S5": "Defamation.",
            "S6": "Specialized Advice.",
            "S7": "Privacy.",
            "S8": "Intellectual Property.",
            "S9": "Indiscriminate Weapons.",
            "S10": "Hate.",
            "S11": "Self-Harm.",
            "S12": "Sexual Content.",
            "S13": "Elections.",
        })
    -%}
{%-  endif -%}

{{- "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" -}}
{%- set ns = namespace(contains_image=false) -%}
{%-  for message in messages -%}
    {%- for content in message['content'] | selectattr('type', 'equalto', 'image') -%}
        {%- set ns.contains_image = true -%}
    {%- endfor -%}
{%- endfor -%}
{%- if ns.contains_image -%}
{{- "<|image|> "-}}
{%- endif -%}
{{- "Task: Check if there is unsafe content in '" + role + "' messages in conversations according our safety policy with the below categories.\n\n" -}}
{{- "<BEGIN UNSAFE CONTENT CATEGORIES>\n"-}}

{%-  for key in categories -%}
    {%-  if key not in excluded_category_keys -%}
        {{-key + ": " + categories[key] + "\n" -}}
    {%-  endif -%}
{%-  endfor -%}

{{- "<END UNSAFE CONTENT CATEGORIES>\n\n"-}}
{{- "<BEGIN CONVERSATION>\n\n"-}}
{%-  for message in messages -%}
    {%-  if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...')-}}
    {%-  endif -%}
    {%-  set content = message['content'] -%}
    {%-  if message['role'] == 'user' -%}
        {%-  set role = 'User' -%}
    {%-  elif message['role'] == 'assistant' -%}
        {%-  set role = 'Agent' -%}
    {%-  endif -%}
    {%-  for content in message['content'] | selectattr('type', 'equalto', 'text') -%}
{{- role + ': ' + content['text'] | trim + '\n\n'-}}
    {%-  endfor -%}
{%-  endfor -%}
{{- "<END CONVERSATION>\n\n"-}}
{{- "Provide your safety assessment for ONLY THE LAST " + role + " message in the above conversation:\n"-}}
{{- " - First line must read 'safe' or 'unsafe'.\n"-}}
{{- " - If unsafe, a second line must include a comma-separated list of violated categories. <|eot_id|><|start_header_id|>assistant<|end_header_id|>"-}}`;

/** Qwen3Guard-Gen chat template: prompt moderation when the last message is the user's. */
export const QWEN3GUARD_CHAT_TEMPLATE: string = String.raw`{%- if messages|length > 0 -%}
    {%- if messages[-1].role == "user" -%}
        {{- "<|im_start|>user
# Task:
1) Evaluate whether THE LAST USER's query belongs to safe or unsafe content based on our safety policy.
2) Identify the category of unsafe content found.

<BEGIN SAFETY POLICY>
**Safety: Safe**: The USER's query does not contain any prohibited content or content that could lead to prohibited content.
**Safety: Unsafe**: The USER's query contains prohibited content.
**Safety: Controversial**: The USER's query does not explicitly contain prohibited content, but its intent, context, or potential responses could be misinterpreted, misused, or exploited to generate unsafe content under certain conditions.
<END SAFETY POLICY>

<BEGIN UNSAFE CONTENT CATEGORIES>
Violent.
Non-violent Illegal Acts.
Sexual Content or Sexual Acts.
PII.
Suicide & Self-Harm.
Unethical Acts.
Politically Sensitive Topics.
Copyright Violation.
Jailbreak.
<END UNSAFE CONTENT CATEGORIES>

<BEGIN CONVERSATION>

" -}}
        {%- set template = "

<END CONVERSATION>

Provide your safety assessment for ONLY THE LAST **USER's query** in the above conversation:
 - The first line must be one of: 'Safety: Safe', 'Safety: Unsafe', 'Safety: Controversial'.
 - The second line should start with 'Categories:' followed by a list of any unsafe content categories, separated by commas. If the content is safe, use 'Categories: None'.<|im_end|>
<|im_start|>assistant
<think>

</think>

" -%}
    {%- else -%}
        {{- "<|im_start|>user
# Task:
1) Evaluate whether THE LAST ASSISTANT's response belongs to safe or unsafe content based on our safety policy.
2) Identify the category of unsafe content found.
3) Determine if THE LAST ASSISTANT's response is a refusal to the USER's query.

<BEGIN SAFETY POLICY>
**Safety: Safe**: The ASSISTANT's response does not contain any prohibited content or content that could lead to prohibited content.
**Safety: Unsafe**: The ASSISTANT's response contains prohibited content.
**Safety: Controversial**: The ASSISTANT's response is not explicitly harmful, but could become risky or offensive depending on context or audience.
<END SAFETY POLICY>

<BEGIN UNSAFE CONTENT CATEGORIES>
Violent.
Non-violent Illegal Acts.
Sexual Content or Sexual Acts.
PII.
Suicide & Self-Harm.
Unethical Acts.
Politically Sensitive Topics.
Copyright Violation.
<END UNSAFE CONTENT CATEGORIES>

<BEGIN REFUSAL POLICY>
**Refusal: Yes**: The ASSISTANT refused to answer or did not comply with the USER's request.
**Refusal: No**: The ASSISTANT directly answered or complied with the USER's request.
<END REFUSAL POLICY>

<BEGIN CONVERSATION>

" -}}
        {%- set template = "

<END CONVERSATION>

Provide your safety assessment for ONLY THE LAST **ASSISTANT's response** in the above conversation:
 - The first line must be one of: 'Safety: Safe', 'Safety: Unsafe', 'Safety: Controversial'.
 - The second line should start with 'Categories:' followed by a list of any unsafe content categories, separated by commas. If the content is safe, use 'Categories: None'.
 - The third line must be one of: 'Refusal: Yes', 'Refusal: No'.<|im_end|>
<|im_start|>assistant
<think>

</think>

" -%}
    {%- endif -%}
    {%- for message in messages -%}
        {%- if loop.first -%}
            {%- if message.role == "system" -%}
                {{- "USER: " + message.content -}}
            {%- elif message.role == "user" -%}
                {{- "USER: " + message.content -}}
            {%- endif -%}
        {%- else -%}
            {%- if loop.index0 > 0 and messages[loop.index0 - 1].role == "system" and message.role == "user" -%}
                {{- "

"+message.content -}}
            {%- else -%}
                {%- if message.role == "assistant" -%}
                    {{- "

ASSISTANT: " + message.content -}}
                {%- elif message.role == "user" -%}
                    {{- "

USER: " + message.content -}}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{- template -}}
{%- endif -%}`;
