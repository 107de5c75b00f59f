"""The Jinja2 template of ``report.html`` (kept in a module so an installed wheel always has it)."""

TEMPLATE = r"""<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lsforensics {{ d.tool_version }}">
<title>{{ d.case.case_id }} · 直播带货取证报告 / Livestream-shopping forensic report</title>
<style>
  body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
         margin: 0 auto; max-width: 1100px; padding: 24px; color: #1d1d1d; line-height: 1.45; }
  h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; border-bottom: 2px solid #333; margin-top: 34px; }
  h3 { font-size: 16px; margin: 0; display: inline; }
  .en { color: #555; font-weight: normal; } .muted { color: #666; font-size: 13px; }
  table { border-collapse: collapse; width: 100%; margin: 8px 0; table-layout: auto; }
  th, td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; font-size: 13px;
           overflow-wrap: anywhere; word-break: break-word; }
  th { background: #f0f0f0; }
  .hash { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; overflow-wrap: anywhere; }
  code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; background: #f5f5f5; padding: 2px 4px;
              white-space: pre-wrap; overflow-wrap: anywhere; }
  .sev-high { color: #fff; background: #c62828; } .sev-medium { color: #000; background: #ffb74d; }
  .sev-low { color: #fff; background: #5b7fa6; }
  .badge { display: inline-block; padding: 1px 7px; border-radius: 3px; font-size: 12px; }
  .finding { display: grid; grid-template-columns: 170px minmax(0, 1fr) 240px; gap: 10px; border: 1px solid #ddd;
             border-left: 5px solid #999; padding: 8px; margin: 8px 0; break-inside: avoid; }
  .finding.high { border-left-color: #c62828; } .finding.medium { border-left-color: #ef8f00; }
  .finding.low { border-left-color: #5b7fa6; }
  .finding .quote { font-size: 15px; background: #fffbe6; padding: 3px 6px; }
  .finding img { width: 100%; height: auto; border: 1px solid #bbb; }
  .finding dl { margin: 4px 0; display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 8px; font-size: 13px; }
  .finding dt { color: #555; } .finding dd { margin: 0; overflow-wrap: anywhere; }
  .nw { white-space: nowrap; }
  .statement { white-space: pre-wrap; }
  .st-confirmed { background: #2e7d32; color: #fff; } .st-rejected { background: #6d6d6d; color: #fff; }
  .st-unsure { background: #f9a825; color: #000; } .st-changed { background: #ad1457; color: #fff; }
  .st-unreviewed { background: #e0e0e0; color: #333; }
  .review { border-top: 1px dashed #bbb; margin-top: 4px; padding-top: 3px; font-size: 13px; }
  .tc { font-family: "DejaVu Sans Mono", monospace; font-weight: bold; }
  mark { background: #ffe082; }
  details > summary { cursor: pointer; padding: 6px 0; font-size: 16px; }
  .summary-box { border: 2px solid #333; padding: 12px 16px; background: #fafafa; }
  .big { font-size: 18px; }
  svg.timeline { border: 1px solid #ddd; background: #fff; }
  @media print { body { max-width: none; } details { display: block; } h2 { break-after: avoid; }
                 * { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
</style>
</head>
<body>
<header>
  <h1>直播带货取证报告 <span class="en">/ Livestream-shopping forensic report</span></h1>
  <div class="muted">案件 Case <b>{{ d.case.case_id }}</b> · 生成时间 Generated {{ d.generated }} (UTC) · lsforensics {{ d.tool_version }}</div>
</header>

{% if d.matter %}
<section id="matter">
<h2>案件信息 <span class="en">/ Matter</span></h2>
<table>
  {% for m in d.matter %}<tr><th>{{ m.zh }} {{ m.en }}</th><td class="{{ 'statement' if m.key == 'statement' }}">{{ m.value }}</td></tr>{% endfor %}
</table>
</section>
{% endif %}

<section id="case">
<h2>案件与操作人 <span class="en">/ Case and operator</span></h2>
<table>
  <tr><th>案件编号 Case ID</th><td>{{ d.case.case_id }}</td><th>UUID</th><td class="hash">{{ d.case.uuid }}</td></tr>
  <tr><th>操作人 Operator</th><td>{{ d.case.operator }}</td><th>主机 Host</th><td>{{ d.case.host }}</td></tr>
  <tr><th>案件创建 Case created</th><td>{{ d.case.created }}</td><th>报告生成 Report generated</th><td>{{ d.generated }}</td></tr>
  {% for label, value in d.stream %}<tr><th>{{ label }}</th><td colspan="3">{{ value }}</td></tr>
  {% endfor %}<tr><th>规则 Rules</th><td colspan="3"><span class="hash">{{ d.rules.sha256 or "—" }}</span> {{ d.rules.folders | join(" + ") }} <span class="muted">({{ d.rules.note }})</span></td></tr>
  {% if d.source %}
  <tr><th>源视频 Source video</th><td colspan="3">{{ d.source.name }} <span class="muted">({{ d.source.path }})</span></td></tr>
  <tr><th>SHA-256</th><td colspan="3" class="hash">{{ d.source.sha256 }}</td></tr>
  <tr><th>SHA-512</th><td colspan="3" class="hash">{{ d.source.sha512 }}</td></tr>
  <tr><th>大小 Size</th><td>{{ d.source.size }} bytes</td><th>时长 Duration</th><td>{{ d.source.duration_timecode }}</td></tr>
  <tr><th>文件修改时间 File mtime</th><td colspan="3">{{ d.source.mtime }} <span class="muted">(可被更改，不代表录制时间 / can be changed; not the recording time)</span></td></tr>
  {% endif %}
</table>
{% if not d.source_matches_findings %}
<p><b>注意 Note:</b> findings.json 记录的源视频哈希与 source.json 不同 / findings.json names another source hash than source.json.</p>
{% endif %}
</section>

{% if d.capture %}
<section id="capture">
<h2>直播采集 <span class="en">/ Capture</span></h2>
<p class="muted">本案视频由 lsf record 在直播时采集：每个分段在收到时即计算哈希并写入哈希链（capture.jsonl）。/ This case's video was recorded live by lsf record: each segment was hashed as it arrived and chained in capture.jsonl.</p>
<table>
  {% for zh, en, value in d.capture.rows %}<tr><th>{{ zh }} {{ en }}</th><td class="{{ 'hash' if en == 'Analysed file' else '' }}">{{ value }}</td></tr>
  {% endfor %}
</table>
{% if d.capture.gaps %}
<table>
  <tr><th>原因 Cause</th><th>从 From (UTC)</th><th>到 To (UTC)</th><th>无数据 Without data</th><th>缺失媒体 Media missing</th><th>在录像中的位置 At (recording)</th></tr>
  {% for g in d.capture.gaps %}<tr><td>{{ g.cause }}</td><td>{{ g["from"] }}</td><td>{{ g.to }}</td><td>{{ g.wall }}</td><td>{{ g.missing }}</td><td>{{ g.at }}</td></tr>
  {% endfor %}
</table>
{% endif %}
</section>
{% endif %}

<section id="summary">
<h2>摘要 <span class="en">/ Summary</span></h2>
<div class="summary-box">
  <p class="big">共 <b>{{ d.summary.total }}</b> 项发现 / <b>{{ d.summary.total }}</b> findings:
    <span class="badge sev-high">高 high {{ d.summary.by_severity.high }}</span>
    <span class="badge sev-medium">中 medium {{ d.summary.by_severity.medium }}</span>
    <span class="badge sev-low">低 low {{ d.summary.by_severity.low }}</span></p>
  {% set rv = d.review %}
  <p>人工复核 Human review: <b>{{ rv.reviewed }}</b> / {{ rv.findings }} 已复核 reviewed ·
    <span class="badge st-confirmed">确认 confirmed {{ rv.by_status.confirmed }}</span>
    <span class="badge st-rejected">驳回 rejected {{ rv.by_status.rejected }}</span>
    <span class="badge st-unsure">不确定 unsure {{ rv.by_status.unsure }}</span>
    {% if rv.by_status.changed %}<span class="badge st-changed">已变更 changed {{ rv.by_status.changed }}</span>{% endif %}
    <span class="badge st-unreviewed">未复核 not reviewed {{ rv.by_status.unreviewed }}</span>
    {% if rv.reviewers %}· 复核人 reviewer(s): {{ rv.reviewers | join(', ') }}{% endif %}</p>
  {% if rv.only %}<p><b>本报告只列出状态为 {{ rv.only | join(', ') }} 的发现（共 {{ d.summary.total }} / {{ d.summary.all_findings }} 项）。</b>
    <span class="en">This report lists only the findings whose review status is {{ rv.only | join(', ') }} ({{ d.summary.total }} of {{ d.summary.all_findings }}).</span></p>{% endif %}
  {% if d.summary.brands %}<p>涉及品牌 Brands named: {% for b, n in d.summary.brands.items() %}{{ b }} ({{ n }}){% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
  <table>
    <tr><th>类型 Kind</th><th>高 High</th><th>中 Medium</th><th>低 Low</th><th>合计 Total</th></tr>
    {% for k in d.summary.by_kind %}
    <tr><td><a href="#group-{{ k.kind }}">{{ k.label[0] }} / {{ k.label[1] }}</a></td><td>{{ k.high }}</td><td>{{ k.medium }}</td><td>{{ k.low }}</td><td><b>{{ k.count }}</b></td></tr>
    {% endfor %}
  </table>
  <h3>最重要的发现 <span class="en">/ Strongest findings</span></h3>
  <table>
    <tr><th>编号 ID</th><th>时间码 Timecode</th><th>类型 Kind</th><th>严重程度 Severity</th><th>复核 Review</th><th>原话/原文 Quote</th></tr>
    {% for fid in d.summary.top %}{% set f = d.findings_by_id[fid] %}
    <tr><td class="nw"><a href="#{{ f.id }}">{{ f.label }}</a></td><td class="tc nw">{{ f.timecode }}</td><td>{{ f.kind_label[0] }} / {{ f.kind_label[1] }}</td>
        <td><span class="badge sev-{{ f.severity }}">{{ f.severity_label[0] }} {{ f.severity }}</span> {{ '%.2f'|format(f.confidence) if f.confidence is not none }}</td>
        <td><span class="badge st-{{ f.review.status }}">{{ f.review.status }}</span></td>
        <td>{{ f.quote | highlight(f.matched) }}</td></tr>
    {% endfor %}
  </table>
  <p class="muted">这些发现是供人工复核的线索。/ These findings are leads for human review, not conclusions.</p>
</div>
</section>

<section id="timeline">
<h2>时间轴 <span class="en">/ Timeline of findings</span></h2>
{{ timeline_svg }}
<p class="muted">横轴为视频时间（从视频开头起算）。每个色块是一项发现，颜色表示严重程度。/ Horizontal axis: time from the start of the video; each mark is one finding, coloured by severity.</p>
</section>

<section id="findings">
<h2>全部发现（按类型分组） <span class="en">/ All findings, grouped by kind</span></h2>
{% for g in d.groups %}
<details id="group-{{ g.kind }}" {% if not many or g.high %}open{% endif %}>
<summary><h3>{{ g.label[0] }} / {{ g.label[1] }}</h3> — {{ g.count }} (高 {{ g.high }} · 中 {{ g.medium }} · 低 {{ g.low }})</summary>
{% for f in g.findings %}
<div class="finding {{ f.severity }}" id="{{ f.id }}">
  <div>
    <div><b>{{ f.label }}</b></div>
    <div class="tc">{{ f.timecode }}{% if f.end is not none and f.end != f.start %} – {{ f.timecode_end }}{% endif %}</div>
    <div><span class="badge sev-{{ f.severity }}">{{ f.severity_label[0] }} {{ f.severity }}</span></div>
    <div>置信度 confidence {{ '%.2f'|format(f.confidence) if f.confidence is not none else '—' }}</div>
    <div class="muted">来源 source: {{ f.source_label[0] }} / {{ f.source_label[1] }}</div>
    <div class="review"><span class="badge st-{{ f.review.status }}">{{ f.review.status }}</span>
      {% if f.review.reviewer %}<div>复核人 reviewer: {{ f.review.reviewer }}</div><div class="muted">{{ f.review.time }}</div>{% endif %}
      {% if f.review.status == 'changed' %}<div><b>复核后发现已变更 / changed after review ({{ f.review.decision }})</b></div>{% endif %}
    </div>
  </div>
  <div>
    {% if f.quote %}<div class="quote">“{{ f.quote | highlight(f.matched) }}”</div>{% endif %}
    <dl>
      {% if f.term %}<dt>词条 term</dt><dd>{{ f.term }}{% if f.matched and f.matched != f.term %} (识别为 found as “{{ f.matched }}”){% endif %}</dd>{% endif %}
      {% if f.brand %}<dt>品牌 brand</dt><dd>{{ f.brand }}</dd>{% endif %}
      <dt>规则 rule</dt><dd><code>{{ f.rule }}</code></dd>
      <dt>法律依据 legal basis</dt><dd>{{ f.legal_basis or '规则中未记录 / not recorded in the rules' }}</dd>
      <dt>匹配方式 matched by</dt><dd><b>{{ f.match }}</b>: {{ f.match_label[0] }} / {{ f.match_label[1] }}</dd>
      {% if f.explanation %}<dt>说明 explanation</dt><dd>{{ f.explanation }}</dd>{% endif %}
      {% if f.review.note %}<dt>复核备注 reviewer's note</dt><dd class="statement">{{ f.review.note }}</dd>{% endif %}
      {% if f.clip %}<dt>视频片段 clip</dt><dd><code>{{ f.clip.file }}</code> (原样拷贝 {{ f.clip.method }}, 自 from {{ f.clip.timecode }}) <span class="hash">sha256 {{ f.clip.sha256 }}</span></dd>{% endif %}
      {% for k, v in f.extra.items() %}
      <dt>{{ k }}</dt><dd>{% if v is mapping %}{% for kk, vv in v.items() %}{{ kk }}: {{ vv }}{% if not loop.last %}; {% endif %}{% endfor %}{% else %}{{ v }}{% endif %}</dd>
      {% endfor %}
      {% if f.evidence %}<dt>证据文件 evidence</dt><dd>{% for e in f.evidence %}<code>{{ e }}</code> {% endfor %}</dd>{% endif %}
    </dl>
  </div>
  <div>
    {% if images.get(f.id) %}<img src="{{ images[f.id] }}" alt="{{ f.id }} frame {{ f.image }}"><div class="muted">{{ f.image }}{% if f.bbox %} · 红框 red box{% endif %}</div>
    {% elif f.image %}<div class="muted">画面 frame: <code>{{ f.image }}</code></div>{% endif %}
  </div>
</div>
{% endfor %}
</details>
{% endfor %}
{% if not d.groups %}<p>没有发现。/ No findings.</p>{% endif %}
</section>

<section id="transcript">
<h2>转写摘录 <span class="en">/ Transcript excerpts</span></h2>
{% if d.excerpts %}
<table>
  <tr><th>时间码 Timecode</th><th>转写 Transcript (automatic)</th><th>相关发现 Findings</th></tr>
  {% for e in d.excerpts %}
  <tr><td class="tc nw">{{ e.timecode }}</td><td>{{ e.text }}{% if e.raw_text and e.raw_text != e.text %}<div class="muted">原始输出 raw: {{ e.raw_text }}</div>{% endif %}</td>
      <td>{% for fid in e.findings[:refs] %}<a href="#{{ fid }}">#{{ d.findings_by_id[fid].n }}</a> {% endfor %}{% if e.findings | length > refs %}+{{ e.findings | length - refs }}{% endif %}</td></tr>
  {% endfor %}
</table>
{% else %}<p>无语音发现或无转写。/ No speech findings or no transcript.</p>{% endif %}
</section>

{% if d.episodes %}
<section id="episodes">
<h2>商品时段 <span class="en">/ Which product was on sale when</span></h2>
<p class="muted">主播口头宣称只与其讲述时正在销售的商品页面比较（见每项发现的 about）。/ A spoken claim is compared only with the page of the product on sale when it was said (each finding's "about" says why).</p>
<table>
  <tr><th>时段 Time</th><th>链接 Link</th><th>依据 Known from</th><th>商品词 Product words</th><th>比较的页面 Page compared</th></tr>
  {% for r in d.episodes.rows %}<tr><td class="tc nw">{{ r.span }}</td><td>{{ r.link }}</td><td>{{ r.how }}</td><td>{{ r.words }}</td><td>{{ r.pages }}</td></tr>{% endfor %}
</table>
</section>
{% endif %}

{% if d.links %}
<section id="links">
<h2>与其他直播的关联 <span class="en">/ Links to other streams</span></h2>
<p class="muted">以下关联由 lsf compare / lsf batch 在本案与其他案件之间计算，是供人工复核的线索：每一项列出分数、阈值和所用方法。/ Computed between this case and other cases by lsf compare or lsf batch; leads for a reviewer, each with its score, threshold and method.</p>
{% if d.links.voices %}
<p>本直播的主要声音 Main voices of this stream{% if d.links.model %} ({{ d.links.model.name }}, weights sha256 <span class="hash">{{ d.links.model.weights_sha256 }}</span>){% endif %}:
{% for v in d.links.voices %}<b>{{ v.id }}</b> {{ v.seconds }} s ({{ v.segments }}){% if not loop.last %}; {% endif %}{% endfor %}</p>
{% endif %}
{% for it in d.links['items'] %}
<h3>{{ it.other_case }}</h3> <span class="muted">{% if it.kinds %}关联 linked by {{ it.kinds|join(', ') }}{% else %}未发现关联 no link{% if it.best_voice is not none %} (best voice similarity {{ '%.3f'|format(it.best_voice) }}){% endif %}{% endif %} · 比较时间 compared {{ it.compared }} · source sha256 <span class="hash">{{ it.other_source_sha256 }}</span></span>
{% if it.rows %}
<table>
  <tr><th>关联 Link</th><th>本案 This case</th><th>对方 Other case</th><th>分数 Score</th><th>阈值 Threshold</th><th>方法 Method</th></tr>
  {% for r in it.rows %}<tr><td>{{ r.what }}</td><td>{{ r.this }}</td><td>{{ r.other }}</td><td>{{ r.score }}</td><td>{{ r.threshold }}</td><td class="muted">{{ r.basis }}</td></tr>{% endfor %}
</table>
{% endif %}
{% for n in it.notes %}<div class="muted">{{ n }}</div>{% endfor %}
{% endfor %}
{% if not d.links['items'] %}<p>尚未与其他案件比较。/ Not compared with another case yet (lsf compare, lsf batch).</p>{% endif %}
</section>
{% endif %}

<section id="exhibits">
<h2>证据清单 <span class="en">/ Exhibit list</span></h2>
<p class="muted">报告生成时案件中的每个文件及其 SHA-256。custody.jsonl 与本报告本身在随后写入的 manifest.json 中列出。/ Every case file at report time with its SHA-256; custody.jsonl and this report are listed in manifest.json, written right after the report.</p>
<table>
  <tr><th>文件 File</th><th>大小（字节） Size (bytes)</th><th>SHA-256</th></tr>
  {% if d.source %}<tr><td><b>源视频 source</b>: {{ d.source.name }} (不复制 not copied)</td><td>{{ d.source.size }}</td><td class="hash">{{ d.source.sha256 }}</td></tr>{% endif %}
  {% for x in d.exhibits if x.group != 'media' %}
  <tr><td><code>{{ x.path }}</code></td><td>{{ x.size }}</td><td class="hash">{{ x.sha256 }}</td></tr>
  {% endfor %}
</table>
{% set media = d.exhibits | selectattr('group', 'equalto', 'media') | list %}
<details {% if media | length <= 60 %}open{% endif %}><summary>media/ — {{ media | length }} 个文件 files</summary>
<table>
  {% for x in media %}<tr><td><code>{{ x.path }}</code></td><td>{{ x.size }}</td><td class="hash">{{ x.sha256 }}</td></tr>{% endfor %}
</table>
</details>
</section>

<section id="environment">
<h2>运行环境 <span class="en">/ Environment</span></h2>
{% set env = d.environment %}
<table>
  <tr><th>工具 Tool</th><td>lsforensics {{ env.tool.version }}, commit <span class="hash">{{ env.tool.commit or 'unknown (not a git checkout)' }}</span></td></tr>
  <tr><th>Python</th><td>{{ env.python }} ({{ env.python_implementation }}) on {{ env.platform }}</td></tr>
  <tr><th>ffmpeg</th><td>{{ env.ffmpeg or 'not found' }}</td></tr>
  <tr><th>语音模型 ASR model</th><td>{% if env.model is mapping %}{% for k, v in env.model.items() %}{{ k }}: <span class="{{ 'hash' if 'sha' in k }}">{{ v }}</span>{% if not loop.last %}; {% endif %}{% endfor %}{% else %}{{ env.model or '—' }}{% endif %}{% if env.transcript_backend %} (backend {{ env.transcript_backend }}){% endif %}</td></tr>
  <tr><th>规则 Rules sha256</th><td class="hash">{{ env.rules_sha256 or '—' }}</td></tr>
  <tr><th>命令 argv</th><td><code>{{ env.argv | join(' ') }}</code></td></tr>
  <tr><th>库 Libraries</th><td>{% for k, v in env.packages.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>
</table>
</section>

<section id="custody">
<h2>保管链记录 <span class="en">/ Chain-of-custody log</span></h2>
<p class="muted">custody.jsonl 在生成本报告时的内容；本报告与封存（seal）的记录紧随其后。每行的 prev 是上一行的 SHA-256。/ custody.jsonl as of this report; the report's and the seal's own entries follow it. Each line's prev is the SHA-256 of the previous line.</p>
<table>
  <tr><th>#</th><th>时间 Time (UTC)</th><th>操作人 Operator</th><th>动作 Action</th><th>输出 Outputs</th><th>prev</th></tr>
  {% for e in d.custody %}
  <tr><td>{{ e.seq }}</td><td>{{ e.time }}</td><td>{{ e.operator }}@{{ e.host }}</td><td><b>{{ e.action }}</b><div class="muted">{{ (e.argv or []) | join(' ') }}</div></td>
      <td>{% for o in e.outputs or [] %}<div><code>{{ o.path }}</code> <span class="hash">{{ (o.sha256 or '')[:16] }}…</span></div>{% endfor %}</td>
      <td class="hash">{{ (e.prev or 'null')[:16] }}</td></tr>
  {% endfor %}
</table>
</section>

<section id="limitations">
<h2>局限性 <span class="en">/ Limitations</span></h2>
<ul>{% for zh, en in d.limitations %}<li>{{ zh }}<br><span class="en">{{ en }}</span></li>{% endfor %}</ul>
</section>

<section id="verification">
<h2>如何核验本报告 <span class="en">/ How to verify this report</span></h2>
<p>案件文件夹中的 manifest.json 列出每个文件的 SHA-256（本报告也在其中）。{% if d.seal.signer %}manifest.json 由 Ed25519 密钥签名（指纹 <span class="hash">{{ d.seal.signer }}</span>）。{% endif %}{% if d.seal.tsa %}manifest.json 向时间戳机构 {{ d.seal.tsa }} 申请了 RFC 3161 时间戳：它证明 manifest.json 在该时间已存在，而不是直播的录制时间。{% endif %}</p>
<p class="en">manifest.json in the case folder lists every file with its SHA-256, this report included.{% if d.seal.signer %} manifest.json is signed with the Ed25519 key whose fingerprint is <span class="hash">{{ d.seal.signer }}</span>.{% endif %}{% if d.seal.tsa %} An RFC 3161 timestamp over manifest.json was requested from {{ d.seal.tsa }}: the TSA time attests when the manifest existed, not when the stream was recorded.{% endif %}</p>
<ol>{% for s in d.verification %}<li>{{ s.zh }} <span class="en">{{ s.en }}</span><pre>{{ s.cmd }}</pre></li>{% endfor %}</ol>
</section>
<footer class="muted">lsforensics {{ d.tool_version }} · {{ d.generated }}</footer>
</body>
</html>
"""
