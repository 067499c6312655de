"""Training layer: dataset preparation, token caches and the codec-LM (VALL-E style AR + NAR)
training loop with checkpoints, exact resume and monitoring. May import audio, text, asr (and the
shared codec-LM parts in ``voxclone.codeclm``)."""
