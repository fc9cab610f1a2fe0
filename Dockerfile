FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY twin_core ./twin_core
COPY workers ./workers
# Every platform's library, so TWIN_CHANNELS alone chooses (torch is in none of them).
RUN pip install --no-cache-dir '.[all]'
ENV TWIN_HOME=/data
VOLUME /data
ENTRYPOINT ["twin"]
CMD ["run"]
