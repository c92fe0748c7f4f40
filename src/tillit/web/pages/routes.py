"""All HTML pages (Swedish by default, English with ``/lang/en`` or ``?lang=en``)."""

from fastapi import APIRouter

from tillit.web.pages.account import router as account_router
from tillit.web.pages.imports import router as imports_router
from tillit.web.pages.views import router as views_router

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
router.include_router(views_router)
router.include_router(account_router)
router.include_router(imports_router)
