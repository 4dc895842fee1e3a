"""The core of the knowledge base: articles, analysis, embedding, storage and indexing."""

from kb.article_folder import load_articles
from kb.articles import Article, ArticleLoadError, Problem
from kb.settings import Settings, env_settings

# The embedder, the store and the indexer pull in torch and Qdrant: import them from their modules
# (kb.embedder, kb.store, kb.indexer) so that `import kb` stays cheap.
__all__ = ["Article", "ArticleLoadError", "Problem", "Settings", "env_settings", "load_articles"]
