#!/usr/bin/env python3
"""Generate the end-to-end chat fixtures: a model directory per family as `huggingface-cli
download` would leave it (config.json, generation_config.json, model.safetensors,
tokenizer.json, tokenizer_config.json / chat_template.jinja), and what transformers does with it.

Writes Tests/ChatTests/Fixtures/<name>/ for

  qwen2-chat      Qwen2ForCausalLM + the Qwen2-style tokenizer + Qwen2.5-Instruct's template,
                  eos <|im_end|>, generation_config eos [<|im_end|>, <|endoftext|>].
  llama3-chat     LlamaForCausalLM + the Llama-3-style tokenizer + Llama-3.1-Instruct's
                  template, bos <|begin_of_text|>, config eos [<|end_of_text|>, <|eot_id|>].
  tinyllama-chat  LlamaForCausalLM + the SentencePiece-style (byte fallback) tokenizer +
                  TinyLlama-Chat's (Zephyr) template, bos <s>, eos </s>; the template inside
                  tokenizer_config.json (transformers 4's layout), not chat_template.jinja.
  mistral-chat    MistralForCausalLM + the same tokenizer + Mistral-7B-Instruct-v0.1's template
                  (which refuses a system prompt: that conversation records the refusal).
  dialogpt        GPT2LMHeadModel + the GPT-2 tokenizer, no template: turns joined by
                  <|endoftext|>, as DialoGPT's model card feeds it.

The tokenizers are those of Scripts/make-hf-tokenizer-fixtures.py
(Tests/TokenizerTests/Fixtures/families/*/tokenizer.json); the templates are the pinned real ones
in Tests/ChatTemplatesTests/Fixtures/templates/ (see SOURCES.md there). Weights are random
(F16 on disk, outputs computed in float32 from the rounded weights).

expected.json: {"conversations": [{"system": str|null, "messages": [{"role", "content"}...],
  "prompt_ids": [...] | null, "refusal": str | null, "reply_ids": [...], "ended": bool,
  "min_top2_margin": float}]}
prompt_ids are apply_chat_template(messages, add_generation_prompt=True, tokenize=True);
reply_ids the greedy continuation (at most 12 tokens) up to, not including, the first
end-of-turn id, reply_text their decode; `ended` says whether one came.

Usage: .venv/bin/python Scripts/make-chat-model-fixtures.py
"""

import importlib.util
import json
import math
import os
import shutil
from pathlib import Path

import torch
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM,
                          PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_spec = importlib.util.spec_from_file_location("gpt2fixtures", HERE / "make-gpt2-fixtures.py")
g = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(g)

TOKENIZERS = Path(os.environ.get("TOKENIZER_FIXTURES", ROOT / "Tests" / "TokenizerTests" / "Fixtures" / "families"))
TEMPLATES = ROOT / "Tests" / "ChatTemplatesTests" / "Fixtures" / "templates"
OUT = ROOT / "Tests" / "ChatTests" / "Fixtures"
NEW_TOKENS = 12

CONVERSATIONS = [
    (None, [{"role": "user", "content": "Hello! How are you today?"}]),
    ("You are a terse assistant.", [
        {"role": "user", "content": "What is 12 + 30?"},
        {"role": "assistant", "content": "42."},
        {"role": "user", "content": "And in words?"}]),
    (None, [{"role": "user", "content": "Ça va? 日本語 🙂 1234567  spaces\tand\ttabs\n\nnew lines"}]),
]

FAMILIES = [
    # name, model class, config class, extra config, tokenizer family, template, bos, eos,
    # config eos ids (names), generation eos (names)
    ("qwen2-chat", Qwen2ForCausalLM, Qwen2Config, dict(num_attention_heads=6, num_key_value_heads=2, hidden_size=48,
     intermediate_size=80, tie_word_embeddings=True, rope_theta=1000000.0, use_sliding_window=False),
     "qwen2", "qwen2.5-instruct.jinja", None, "<|im_end|>", ["<|im_end|>"], ["<|im_end|>", "<|endoftext|>"]),
    ("llama3-chat", LlamaForCausalLM, LlamaConfig, dict(num_attention_heads=4, num_key_value_heads=2, hidden_size=40,
     intermediate_size=72, tie_word_embeddings=False, rope_theta=500000.0),
     "llama3", "llama-3.1-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>", ["<|end_of_text|>", "<|eot_id|>"], None),
    ("tinyllama-chat", LlamaForCausalLM, LlamaConfig, dict(num_attention_heads=4, num_key_value_heads=4, hidden_size=32,
     intermediate_size=64, tie_word_embeddings=False, rope_theta=10000.0),
     "llama2", "zephyr-tinyllama-chat.jinja", "<s>", "</s>", ["</s>"], None),
    ("mistral-chat", MistralForCausalLM, MistralConfig, dict(num_attention_heads=4, num_key_value_heads=1, hidden_size=32,
     intermediate_size=56, tie_word_embeddings=False, rope_theta=10000.0, sliding_window=None),
     "llama2", "mistral-7b-instruct-v0.1.jinja", "<s>", "</s>", ["</s>"], None),
    ("dialogpt", GPT2LMHeadModel, GPT2Config, dict(n_embd=32, n_head=4, n_positions=256, activation_function="gelu_new",
     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0),
     "gpt2", None, "<|endoftext|>", "<|endoftext|>", ["<|endoftext|>"], None),
]


def randomise(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or ".ln_" in name or name.startswith("transformer.ln_f"):
                p.copy_((1.0 + 0.1 * torch.randn_like(p)) if name.endswith("weight") else 0.05 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif "embed_tokens" in name or "wte" in name or name == "lm_head.weight":
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    return model.eval()


@torch.inference_mode()
def greedy_reply(model, prompt, eos_ids):
    """Greedy tokens after `prompt` until an end-of-turn id (not included) or NEW_TOKENS."""
    ids = list(prompt)
    reply, margin = [], math.inf
    for _ in range(NEW_TOKENS):
        logits = model(torch.tensor([ids])).logits[0, -1]
        top2 = torch.topk(logits, 2).values
        margin = min(margin, (top2[0] - top2[1]).item())
        nxt = int(torch.argmax(logits))
        if nxt in eos_ids:
            return reply, True, margin
        reply.append(nxt)
        ids.append(nxt)
    return reply, False, margin


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if OUT.exists():
        for child in OUT.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    OUT.mkdir(parents=True, exist_ok=True)
    for seed, (name, model_cls, config_cls, extra, tok_family, template_file, bos, eos, config_eos, gen_eos) in enumerate(FAMILIES, start=40):
        print(name)
        directory = OUT / name
        directory.mkdir()
        tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZERS / tok_family / "tokenizer.json"), bos_token=bos, eos_token=eos)
        if template_file:
            tokenizer.chat_template = (TEMPLATES / template_file).read_text()
        vocab = len(tokenizer)
        ids = lambda names: [tokenizer.convert_tokens_to_ids(n) for n in names]
        eos_ids = ids(config_eos)
        if model_cls is GPT2LMHeadModel:
            config = config_cls(vocab_size=vocab, n_layer=2, bos_token_id=eos_ids[0], eos_token_id=eos_ids[0], **extra)
        else:
            config = config_cls(vocab_size=vocab, num_hidden_layers=2, max_position_embeddings=256, rms_norm_eps=1e-5,
                                hidden_act="silu", bos_token_id=ids([bos])[0] if bos else None,
                                eos_token_id=eos_ids if len(eos_ids) > 1 else eos_ids[0], **extra)
        model = randomise(model_cls._from_config(config, attn_implementation="eager"), seed)
        model.to(torch.float16).save_pretrained(directory, safe_serialization=True)
        if gen_eos:
            generation = json.loads((directory / "generation_config.json").read_text())
            generation["eos_token_id"] = ids(gen_eos)
            (directory / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")
        tokenizer.save_pretrained(directory)
        if name == "tinyllama-chat":
            # The layout transformers 4 wrote (and most downloads still have): the template as
            # tokenizer_config.json's "chat_template" instead of chat_template.jinja.
            config_path = directory / "tokenizer_config.json"
            tokenizer_config = json.loads(config_path.read_text())
            tokenizer_config["chat_template"] = (directory / "chat_template.jinja").read_text()
            (directory / "chat_template.jinja").unlink()
            config_path.write_text(json.dumps(tokenizer_config, indent=2, ensure_ascii=False) + "\n")
        reference = model_cls.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager").eval()
        all_eos = set(eos_ids) | set(ids(gen_eos or [])) | {tokenizer.convert_tokens_to_ids(eos)}

        conversations = []
        for system, messages in CONVERSATIONS:
            full = ([{"role": "system", "content": system}] if system else []) + messages
            entry = {"system": system, "messages": messages, "prompt_ids": None, "refusal": None, "reply_ids": [], "ended": False,
                     "min_top2_margin": None}
            if template_file:
                try:
                    prompt = tokenizer.apply_chat_template(full, add_generation_prompt=True, tokenize=True)
                    if isinstance(prompt, dict) or hasattr(prompt, "input_ids"):
                        prompt = prompt["input_ids"]
                    text = tokenizer.apply_chat_template(full, add_generation_prompt=True, tokenize=False)
                    assert prompt == tokenizer(text, add_special_tokens=False).input_ids
                except Exception as error:  # the template's own raise_exception
                    entry["refusal"] = str(error)
                    conversations.append(entry)
                    print(f"    refused: {error}")
                    continue
            else:
                # DialoGPT: every turn followed by <|endoftext|>, the system prompt as a first turn.
                prompt = []
                for m in full:
                    prompt += tokenizer(m["content"], add_special_tokens=False).input_ids + [eos_ids[0]]
            reply, ended, margin = greedy_reply(reference, prompt, all_eos)
            assert margin > 1e-3, f"{name}: greedy margin {margin} too small for a stable fixture"
            entry.update(prompt_ids=prompt, reply_ids=reply, reply_text=tokenizer.decode(reply, skip_special_tokens=False), ended=ended,
                         min_top2_margin=margin)
            conversations.append(entry)
            print(f"    prompt {len(prompt)} tokens, reply {reply} ended={ended} margin {margin:.4f}")
        (directory / "expected.json").write_text(json.dumps(
            {"note": f"{model_cls.__name__}, F16 weights, outputs in float32", "torch": torch.__version__,
             "conversations": conversations}, ensure_ascii=False) + "\n")
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
