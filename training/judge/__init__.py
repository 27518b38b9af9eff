"""The judge: a scene classifier trained only on real photos, used to judge generated images.

It never sees a generated image. `musicscape eval` runs its ONNX export on the generator's
output: its category is the "generation accuracy", its penultimate features give the
diversity and the Frechet distance (fid_judge).

Input: images in [-1, 1], [B, 3, S, S] with S = `JudgeConfig.image_size` (the generator's 64).
Output: (logits [B, C], features [B, D]), D = the last width.

Several judges (say one at 64 and one at 128 pixels) combine into a `JudgeEnsemble` with
`combine_judges`: their class probabilities are averaged, their features placed side by side.

Training: every photo is decoded once into a uint8 array (at `store_size`, a little larger
than `image_size`, so random resized crops keep detail); batches are augmented on the fly
(random resized crop + horizontal flip via one affine resampling, colour jitter), sampled
class-balanced, optionally CutMix'ed, with label smoothing, AdamW (or SGD with Nesterov
momentum, `optimizer="sgd"`) and a one-cycle learning rate; the saved weights may be the
mean of the last epochs' (`average_epochs`). Photos are split by image per category with
`split_by_item`, so the held-out list is known and reproducible.

Modules: config (JudgeConfig), models (the networks, predict), photos (the photo sets),
augment (crops, jitter, CutMix), distill (the loss, a teacher's soft targets), checkpoint
(judge.pt, load_judge), ensemble (combine_judges), trainer (train_judge). The ONNX export is
export/judge_export.py.
"""
