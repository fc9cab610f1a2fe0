FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY twin_core ./twin_core
COPY workers ./workers
RUN pip install --no-cache-dir '.[postgres]'
ENV TWIN_HOME=/data
VOLUME /data
ENTRYPOINT ["twin"]
CMD ["run"]
